// The time-zone picker: put the browser's own zone first, in a group of its own, and choose it
// while the account still has the default (UTC). Without script the grouped list still works.
(function () {
  "use strict";
  var select = document.getElementById("tz");
  if (!select || !window.Intl) {
    return;
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var listed = Array.prototype.filter.call(select.options, function (option) {
    return option.value === zone;
  })[0];
  if (!zone || !listed) {
    return;
  }
  var group = document.createElement("optgroup");
  group.label = select.getAttribute("data-guess-label") || "Your browser's time zone";
  var guess = document.createElement("option");
  guess.value = zone;
  guess.textContent = listed.textContent + " (" + zone + ")";
  group.appendChild(guess);
  select.insertBefore(group, select.firstChild);
  if (select.getAttribute("data-detect") !== "yes" || zone === select.value) {
    if (zone === select.value) {
      guess.selected = true;
    }
    return;
  }
  guess.selected = true;
  var note = document.getElementById("tz-detected");
  if (note) {
    note.textContent = (note.getAttribute("data-text") || "Detected from your browser: ") + zone + ".";
    note.hidden = false;
  }
})();
