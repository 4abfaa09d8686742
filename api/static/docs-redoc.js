// ReDoc on /redoc, started from this file rather than a <redoc> element (not HTML) or an
// inline script. The theme fixes ReDoc's colours that fail WCAG AA contrast: inline code
// (red on grey, 3.9:1) and the response tabs' status colours on the dark sample panel
// (3.5:1; docs.css gives the selected, white tab dark text).
(function () {
  "use strict";
  var el = document.getElementById("redoc");
  Redoc.init(el.getAttribute("data-openapi"), {
    theme: {
      typography: { code: { color: "#b71c1c" } },
      colors: {
        responses: {
          error: { tabTextColor: "#ff8a80" },
          success: { tabTextColor: "#7bd88a" }
        }
      }
    }
  }, el);
})();
