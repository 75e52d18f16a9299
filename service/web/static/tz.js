// Preselect the browser's time zone while the account still has the default (UTC).
// The page works without this: the select can always be changed by hand.
(function () {
  "use strict";
  var select = document.getElementById("tz");
  if (!select || select.getAttribute("data-detect") !== "yes" || !window.Intl) {
    return;
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var known = Array.prototype.some.call(select.options, function (option) {
    return option.value === zone;
  });
  if (!zone || zone === select.value || !known) {
    return;
  }
  select.value = zone;
  var note = document.getElementById("tz-detected");
  if (note) {
    note.textContent = "Detected from your browser: " + zone + ". Save to keep it.";
    note.hidden = false;
  }
})();
