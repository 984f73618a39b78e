// The print button of the print-ready pages (the desk's own script: no inline script).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("lx-print");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
