// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Reply templates: moving through the list (arrow keys, or the mouse) only previews the wording the
  // server filled in for this case; Enter on the list or the "Insert" button adds it to the field.
  document.querySelectorAll("[data-reply-picker]").forEach(function (picker) {
    var select = picker.querySelector("select[data-insert-into]");
    var button = picker.querySelector("button[data-insert-from]");
    var preview = picker.querySelector(".reply-preview");
    var insert = function () {
      var target = document.getElementById(select.dataset.insertInto);
      if (!target || !select.value) return;
      target.value = target.value ? target.value + "\n" + select.value : select.value;
      target.dispatchEvent(new Event("input", { bubbles: true }));
      select.value = "";
      preview.textContent = "";
      target.focus();
      target.setSelectionRange(target.value.length, target.value.length);
    };
    select.addEventListener("change", function () {
      preview.textContent = select.value; // text, never HTML
    });
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        insert();
      }
    });
    button.addEventListener("click", insert);
    picker.hidden = false;
  });

  // Ctrl+Enter (or Cmd+Enter) submits the form being typed in.
  document.querySelectorAll("form[data-submit-shortcut]").forEach(function (form) {
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  });

  // Intake: find an existing customer by phone or email as the agent types.
  var matches = document.getElementById("customer-matches");
  if (matches) {
    var timer = null;
    // Choosing a match is always deliberate (Enter in the phone or e-mail field, or a click): the
    // buttons stay out of the Tab order, so typing in the next field can never press one. What the
    // agent had typed and the record replaces is shown, not silently dropped.
    // The screen-pop: the record, their open cases and how their last case ended. Its links open a new
    // tab (the call and the form stay here) and, like the buttons, stay out of the Tab order.
    var link = function (href, text) {
      var a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener";
      a.tabIndex = -1;
      a.textContent = text;
      return a;
    };
    var line = function (className, label) {
      var p = document.createElement("p");
      p.className = className;
      if (label) p.appendChild(document.createTextNode(label + " "));
      return p;
    };
    var screenPop = function (customer) {
      var pop = document.createElement("div");
      pop.className = "screen-pop";
      pop.appendChild(link(customer.url, matches.dataset.labelRecord));
      var open = line("hint open-cases", customer.open_cases.length ? matches.dataset.labelOpenCases : "");
      if (!customer.open_cases.length) open.textContent = matches.dataset.labelNoOpen;
      customer.open_cases.forEach(function (ticket, index) {
        if (index) open.appendChild(document.createTextNode(" · "));
        open.appendChild(link(ticket.url, ticket.reference));
        open.appendChild(document.createTextNode(" " + ticket.subject + " (" + ticket.step + ")"));
      });
      pop.appendChild(open);
      if (customer.last_outcome) {
        var outcome = line("hint last-outcome", matches.dataset.labelLastOutcome);
        outcome.appendChild(document.createTextNode(customer.last_outcome));
        pop.appendChild(outcome);
      }
      return pop;
    };
    var fill = function (customer) {
      var replaced = [];
      var put = function (id, value) {
        var input = document.getElementById(id);
        if (!value) return;
        if (input.value.trim() && input.value.trim() !== value) replaced.push(input.value.trim());
        input.value = value;
      };
      put("customer_name", customer.name);
      put("customer_phone", customer.phone);
      put("customer_email", customer.email);
      document.getElementById("customer_id").value = customer.id;
      matches.textContent = "";
      if (replaced.length) {
        var note = document.createElement("p");
        note.className = "hint replaced";
        note.textContent = matches.dataset.labelReplaced + " " + replaced.join(" · ");
        matches.appendChild(note);
      }
      matches.appendChild(screenPop(customer));  // who is calling stays in view while the agent types
      document.getElementById("subject").focus();
    };
    var lookup = function (query) {
      if (query.trim().length < 5) { matches.textContent = ""; return; }
      fetch(matches.dataset.lookupUrl + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (customers) {
          matches.textContent = "";
          if (!customers.length) return;
          var label = document.createElement("p");
          label.className = "hint";
          label.textContent = matches.dataset.labelFound;
          matches.appendChild(label);
          customers.forEach(function (customer) {
            var button = document.createElement("button");
            button.type = "button";
            button.tabIndex = -1;  // outside the Tab path between the fields
            button.textContent = customer.name + " · " + (customer.phone || "") + " " + (customer.email || "") +
              " · " + customer.tier + " · " + customer.cases + " " + matches.dataset.labelCases;
            button.addEventListener("click", function () { fill(customer); });
            matches.appendChild(button);
            matches.appendChild(screenPop(customer));
          });
        })
        .catch(function () { matches.textContent = ""; });
    };
    document.querySelectorAll(".lookup input").forEach(function (input) {
      input.addEventListener("input", function () {
        document.getElementById("customer_id").value = "";  // a changed number or address: no longer the pick
        clearTimeout(timer);
        timer = setTimeout(function () { lookup(input.value); }, 250);
      });
      input.addEventListener("keydown", function (event) {
        var first = matches.querySelector("button");
        if (event.key === "Enter" && first && !(event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          first.click();
        }
      });
    });
  }

  // Forms marked data-confirm ask before they submit (e.g. revoking an API token).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Copy buttons: shown only where the clipboard can be written; copy the named field's value.
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.dataset.copy);
      if (!source) return;
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.value).then(function () {
          button.textContent = button.dataset.copied;
          setTimeout(function () { button.textContent = label; }, 2000);
        }, function () { source.select(); });
      });
    });
  }

  // Printable report: the Print button is shown only when it can work.
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // A user's page asks where their open cases go only while "Active" is unticked (without script: always).
  var active = document.querySelector("input#active");
  var whenDisabling = document.querySelector(".field.when-disabling");
  if (active && whenDisabling) {
    var follow = function () { whenDisabling.hidden = active.checked; };
    active.addEventListener("change", follow);
    follow();
  }

  // The team queue's "select every case on this page" box: shown only when it can work.
  document.querySelectorAll("input[data-check-all]").forEach(function (all) {
    var boxes = document.querySelectorAll("input[type=checkbox][form='" + all.dataset.checkAll + "']");
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });

  // Keyboard shortcuts, listed on the queue pages (? shows the list); ignored while typing in a field.
  // j/k move through a list of cases, Enter or o opens the selected one, n opens a new complaint,
  // / jumps to the search box.
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-list] tbody tr"));
  var index = -1;
  var select = function (next) {
    if (index >= 0) rows[index].classList.remove("selected");
    index = Math.max(0, Math.min(rows.length - 1, next));
    rows[index].classList.add("selected");
    rows[index].querySelector("a").focus();
  };
  var typing = function (target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "select" || tag === "textarea" || target.isContentEditable;
  };
  var shortcut = function (key) { return document.querySelector("[data-shortcut='" + key + "']"); };
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key, target;
    if ((key === "j" || key === "k") && rows.length) select(index + (key === "j" ? 1 : -1));
    else if (key === "o" && index >= 0) rows[index].querySelector("a").click();
    else if (key === "n" && (target = shortcut("n"))) target.click();
    else if (key === "/" && (target = shortcut("/"))) target.focus();
    else if (key === "?" && (target = shortcut("?"))) {
      target.open = !target.open;
      target.querySelector("summary").focus();
    } else return;
    event.preventDefault();
  });

  // The bell's unread count follows new notifications without a reload: the page asks for it now
  // and then while it is in view (and at once when it comes back into view).
  var bell = document.querySelector("a.bell[data-unread-url]");
  if (bell) {
    var count = bell.querySelector(".count");
    var refresh = function () {
      if (document.hidden) return;
      fetch(bell.dataset.unreadUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (!answer) return;
          count.textContent = answer.unread;
          count.setAttribute("aria-label", answer.label);
          count.hidden = answer.unread === 0;
        })
        .catch(function () {});
    };
    setInterval(refresh, Math.max(1, Number(bell.dataset.pollSeconds) || 30) * 1000);
    document.addEventListener("visibilitychange", refresh);
  }

  // The form of the step at hand takes the focus, so the agent can type at once (unless the browser
  // already gave the focus to something); after a refused submission the first field in error does.
  var invalid = document.querySelector("[aria-invalid=true]");
  var first = document.querySelector("[data-autofocus] input:not([type=hidden]), [data-autofocus] select, " +
                                     "[data-autofocus] textarea");
  if (invalid) invalid.focus();
  else if (first && !window.location.hash && (!document.activeElement || document.activeElement === document.body)) {
    first.focus();
  }
})();
