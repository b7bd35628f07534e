// Starts Swagger UI on the docs page (kept out of the page itself: the page's Content-Security-Policy allows
// scripts from the app's own origin only, no inline script).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no badge from validator.swagger.io: the page talks to this app only
    persistAuthorization: false,
  });
});
