// The TV's sign-in page: ask every two seconds whether a phone confirmed the code; once it has, this browser is
// signed in (the poll's answer did it) and goes home. An expired code says so; 换一个二维码 asks for a new one.
const body = document.body;
const state = document.querySelector("[data-signin-state]");
const POLL_MS = 2000;

async function poll() {
  try {
    const response = await fetch(body.dataset.pollUrl, { credentials: "same-origin", cache: "no-store" });
    if (response.ok) {
      const answer = await response.json();
      if (answer.state === "signed_in") { window.location.href = answer.next; return; }
      if (answer.state === "expired") {
        state.textContent = document.querySelector("[data-expired-text]").content.textContent;
        return;
      }
    }
  } catch (error) { /* a weak network: ask again */ }
  setTimeout(poll, POLL_MS);
}
setTimeout(poll, POLL_MS);
