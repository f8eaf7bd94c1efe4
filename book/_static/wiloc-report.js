/* wiloc book: filters of the reproduction report table.
 *
 * A filter bar (div.wiloc-filters[data-table=ID]) holds one <select data-filter=FIELD> per
 * field; each row of the table #ID carries data-FIELD attributes. Choosing a value hides
 * the rows that do not match; "all" shows them again. A query string such as
 * ?paper=000&data_kind=real preselects values (the landing page's scoreboard links so).
 * Everything the table shows is already in the page: this script fetches nothing.
 * Jupyter Book adds every script under _static to every page, so it does nothing on a
 * page without a filter bar.
 */
(function () {
  "use strict";

  function setup(bar) {
    var table = document.getElementById(bar.getAttribute("data-table"));
    if (!table || !table.tBodies.length) {
      return;
    }
    var rows = table.tBodies[0].rows;
    var selects = bar.querySelectorAll("select[data-filter]");
    var shown = bar.querySelector(".wiloc-shown");
    var query = new URLSearchParams(window.location.search);

    function apply() {
      var count = 0;
      for (var i = 0; i < rows.length; i++) {
        var keep = true;
        for (var j = 0; j < selects.length && keep; j++) {
          var wanted = selects[j].value;
          var field = selects[j].getAttribute("data-filter");
          keep = !wanted || rows[i].getAttribute("data-" + field) === wanted;
        }
        rows[i].hidden = !keep;
        count += keep ? 1 : 0;
      }
      if (shown) {
        shown.textContent = count + " of " + rows.length + " rows";
      }
    }

    for (var j = 0; j < selects.length; j++) {
      var wanted = query.get(selects[j].getAttribute("data-filter"));
      if (wanted !== null && selects[j].querySelector('option[value="' + CSS.escape(wanted) + '"]')) {
        selects[j].value = wanted;
      }
      selects[j].addEventListener("change", apply);
    }
    apply();
  }

  function init() {
    var bars = document.querySelectorAll(".wiloc-filters[data-table]");
    for (var i = 0; i < bars.length; i++) {
      setup(bars[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
