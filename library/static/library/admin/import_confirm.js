// 正式导入: the button is pressed once. A second press (a double click, an impatient tap on a slow network) would
// only be refused by the server; greying the button out says at once that the import has started.
document.querySelectorAll("form[data-import-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    const button = form.querySelector("[data-import-confirm-button]");
    if (button) {
      button.setAttribute("aria-disabled", "true");
      button.classList.add("button-longrunning-active");
    }
  });
});
