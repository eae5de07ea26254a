// On a narrow screen, fold the main navigation behind its Menu button.
// Without this module (or on a wide screen) the links are simply shown: the
// stylesheet hides the panel only once [data-sm-nav-ready] says the button
// works.

const header = document.querySelector("[data-sm-nav]");
const toggle = header && header.querySelector("[data-sm-nav-toggle]");
const panel = header && header.querySelector("[data-sm-nav-panel]");

if (toggle && panel) {
  toggle.hidden = false;
  header.dataset.smNavReady = "";
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  // Escape closes an open menu and gives focus back to its button.
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
}

function setOpen(open) {
  toggle.setAttribute("aria-expanded", String(open));
  header.toggleAttribute("data-sm-nav-open", open);
}
