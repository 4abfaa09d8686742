// Swagger UI on /docs, started from this file (the page has no inline script, so the
// site's CSP needs no exception). No deep links: Swagger UI puts a link inside each
// operation's toggle button, a focusable control nested in another (axe:
// nested-interactive); no validator badge: nothing leaves the machine.
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: false,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
