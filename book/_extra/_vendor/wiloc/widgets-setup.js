/*
 * wiloc book: make the ipywidgets embed manager work offline next to MathJax 3.
 * Loaded after require.js and before embed-amd.js (nb_ipywidgets_js in book/_config.yml).
 *
 * 1. embed-amd.js defines its AMD modules as "@jupyter-widgets/html-manager/dist/..." and
 *    webpack derives the URL of the widget fonts from that module id. Map the id to the
 *    folder this book serves the manager from; otherwise RequireJS resolves it against the
 *    page folder, where nothing is.
 * 2. A widget typesets its label with the MathJax 2 call MathJax.Hub.Queue(["Typeset", hub,
 *    element]), which throws under MathJax 3. Give every value of window.MathJax (Sphinx's
 *    configuration object first, then MathJax 3 itself once it starts) a hidden Hub whose
 *    Queue uses MathJax 3's typesetPromise when it is ready. Before that, MathJax's own
 *    first pass over the page typesets the labels.
 */
(function () {
  var here = document.currentScript.src;
  var vendor = here.slice(0, here.lastIndexOf("/wiloc/") + 1);
  window.requirejs.config({
    paths: { "@jupyter-widgets/html-manager/dist": vendor + "html-manager" },
  });

  function queue(job) {
    var mathjax = window.MathJax;
    var element = job && job[2];
    if (element && mathjax && typeof mathjax.typesetPromise === "function") {
      mathjax.typesetPromise([element]).catch(function () {});
    }
  }
  function withHub(value) {
    if (value && typeof value === "object" && !("Hub" in value)) {
      Object.defineProperty(value, "Hub", { value: { Queue: queue }, enumerable: false });
    }
    return value;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
})();
