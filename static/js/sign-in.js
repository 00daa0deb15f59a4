// Sign-in and new-password pages: a 显示密码 toggle button (aria-pressed) next to a password field, so a member
// typing on a phone can check what they typed. Without JavaScript the button stays hidden and the field works as usual.
document.querySelectorAll("[data-password-toggle]").forEach((button) => {
  const input = document.getElementById(button.dataset.passwordToggle);
  if (!input) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    button.setAttribute("aria-pressed", String(show));
    input.focus();
  });
});
