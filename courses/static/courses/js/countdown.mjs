// The countdown to a course's premiere, on the server's clock; when it reaches zero the page reloads and the
// lessons open. Written once a second into an element screen readers are not made to re-read (aria-live off).
import { format, gettext } from "../../js/words.mjs";
import { serverNow, syncClock } from "./clock.mjs";

const element = document.querySelector("[data-countdown]");

function text(seconds) {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = Math.floor(seconds % 60);
  const time = format(gettext("%(hours)s 小时 %(minutes)s 分 %(seconds)s 秒"), { hours, minutes, seconds: rest });
  return days ? `${format(gettext("%(days)s 天"), { days })} ${time}` : time;
}

if (element) {
  const target = Date.parse(element.dataset.target);
  syncClock(element.dataset.timeUrl).finally(() => {
    const tick = () => {
      const left = (target - serverNow()) / 1000;
      if (left <= 0) {
        element.textContent = gettext("首播开始了");
        window.location.reload();
        return;
      }
      element.textContent = text(left);
      window.setTimeout(tick, 1000 - (serverNow() % 1000));
    };
    tick();
  });
}
