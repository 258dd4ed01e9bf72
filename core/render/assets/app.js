// nakedhtmx page script: small progressive enhancements on top of htmx.
// Pages work without it; it only adds feedback.
(() => {
  // A failed request (server down, network gone) should not fail silently.
  document.addEventListener("htmx:error", () => {
    let n = document.getElementById("nh-offline");
    if (!n) {
      n = document.createElement("p");
      n.id = "nh-offline";
      n.className = "notice error";
      n.setAttribute("role", "alert");
      n.textContent = "The server could not be reached. Your input is kept; try again.";
      document.querySelector("main")?.prepend(n);
    }
  });
  document.addEventListener("htmx:after:request", () => document.getElementById("nh-offline")?.remove());
})();
