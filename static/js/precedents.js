// Precedents: while an amount is typed in the proposal form, say next to its line when it falls outside
// what similar cases received (the bands rendered by templates/_partials/precedents.html, one row per
// compensation type and currency with data-low/-high and the sentences to show). It warns; the form
// submits as it is. Progressive enhancement only: without this file the panel still shows the bands.
(function () {
  "use strict";

  var table = document.querySelector("table[data-precedent-bands]");
  var currencyInput = document.querySelector('input[name="propose-currency"]');
  if (!table || !currencyInput || !currencyInput.form) return;
  var form = currencyInput.form;

  var bands = {};
  table.querySelectorAll("tr[data-type]").forEach(function (row) {
    bands[row.dataset.type + " " + row.dataset.currency] = {
      low: parseFloat(row.dataset.low),
      high: parseFloat(row.dataset.high),
      below: row.dataset.below,
      above: row.dataset.above
    };
  });

  // One line of the form: its compensation select, its amount input, and a note beside the amount.
  var lines = [];
  form.querySelectorAll('select[name$="-compensation"]').forEach(function (select) {
    var amount = form.querySelector('input[name="' + select.name.replace(/-compensation$/, "-amount") + '"]');
    if (!amount) return;
    var note = document.createElement("p");
    note.className = "precedent-warning";
    note.id = amount.id + "-precedent";
    note.setAttribute("aria-live", "polite");
    note.hidden = true;
    amount.insertAdjacentElement("afterend", note);
    var described = amount.getAttribute("aria-describedby");
    amount.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
    lines.push({ select: select, amount: amount, note: note });
  });

  var parse = function (text) {
    var value = parseFloat(String(text).replace(/\s/g, "").replace(",", "."));
    return isNaN(value) ? null : value;
  };

  // A type's lines are summed, as the bands sum what each case received of that type.
  var check = function () {
    var currency = currencyInput.value.trim().toUpperCase();
    var totals = {};
    lines.forEach(function (line) {
      var value = parse(line.amount.value);
      if (!line.select.value || value === null) return;
      totals[line.select.value] = (totals[line.select.value] || 0) + value;
    });
    lines.forEach(function (line) {
      var band = bands[line.select.value + " " + currency];
      var total = totals[line.select.value];
      var message = "";
      if (band && total !== undefined && parse(line.amount.value) !== null) {
        if (total > band.high) message = band.above;
        else if (total < band.low) message = band.below;
      }
      line.note.textContent = message;
      line.note.hidden = !message;
    });
  };

  form.addEventListener("input", check);
  form.addEventListener("change", check);
  check();
})();
