// The customer portal's progressive enhancement: every page works without this file.
(function () {
  "use strict";

  // Copy-link buttons: copy the named field's value to the clipboard and say so (visibly, and to
  // screen readers through the live status line). Where the clipboard cannot be written, the text is
  // selected and the status line says how to copy it.
  document.querySelectorAll("button[data-copy-link]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copyLink);
    var status = document.getElementById(button.dataset.status);
    if (!source || !status) return;
    var timer = null;
    var say = function (text) {
      status.textContent = text;
      clearTimeout(timer);
      timer = setTimeout(function () { status.textContent = ""; }, 6000);
    };
    var selectText = function () {
      source.focus();
      source.select();
      source.setSelectionRange(0, source.value.length); // iOS needs the range as well
    };
    var fallback = function () {
      selectText();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      say(copied ? button.dataset.copied : button.dataset.selected);
    };
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(function () {
          say(button.dataset.copied);
        }, fallback);
      } else {
        fallback();
      }
    });
  });
})();
