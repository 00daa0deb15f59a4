// Article areas on a newspaper page: drag on the image to draw a rectangle, choose its article, delete it.
// Points are stored as fractions (0–1) of the image's width and height, so they fit any rendition of the page.
(function () {
  "use strict";
  const form = document.querySelector("[data-areas-form]");
  if (!form) return;
  const stage = form.querySelector("[data-areas-stage]");
  const list = form.querySelector("[data-areas-list]");
  const input = form.querySelector("[data-areas-input]");
  const articles = JSON.parse(document.getElementById("areas-articles").textContent);
  let areas = [];
  try { areas = JSON.parse(input.value || "[]"); } catch (e) { areas = []; }

  const clamp = (v) => Math.min(1, Math.max(0, v));
  const bounds = (points) => {
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    return { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
  };

  function render() {
    stage.querySelectorAll(".area-box").forEach((el) => el.remove());
    list.textContent = "";
    areas.forEach((area, index) => {
      const b = bounds(area.points);
      const box = document.createElement("div");
      box.className = "area-box";
      box.textContent = String(index + 1);
      Object.assign(box.style, {
        position: "absolute", left: b.x * 100 + "%", top: b.y * 100 + "%", width: b.w * 100 + "%", height: b.h * 100 + "%",
        border: "2px solid #c00", background: "rgba(204,0,0,.12)", color: "#c00", fontWeight: "bold", fontSize: "1.2rem",
        pointerEvents: "none",
      });
      stage.appendChild(box);

      const item = document.createElement("li");
      const select = document.createElement("select");
      select.setAttribute("aria-label", "区域 " + (index + 1) + " 的文章");
      select.append(new Option("— 选择文章 —", ""));
      articles.forEach((a) => select.append(new Option(a.position + ". " + a.title, String(a.pk), false, a.pk === Number(area.article))));
      select.addEventListener("change", () => { area.article = select.value ? Number(select.value) : null; sync(); });
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-small button-secondary no";
      remove.textContent = "删除";
      remove.addEventListener("click", () => { areas.splice(index, 1); render(); });
      item.append("区域 " + (index + 1) + "：", select, " ", remove);
      list.appendChild(item);
    });
    sync();
  }

  function sync() { input.value = JSON.stringify(areas); }

  function fraction(event) {
    const rect = stage.getBoundingClientRect();
    return [clamp((event.clientX - rect.left) / rect.width), clamp((event.clientY - rect.top) / rect.height)];
  }

  let start = null, ghost = null;
  stage.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    start = fraction(event);
    ghost = document.createElement("div");
    Object.assign(ghost.style, { position: "absolute", border: "2px dashed #06c", pointerEvents: "none" });
    stage.appendChild(ghost);
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!start) return;
    const b = bounds([start, fraction(event)]);
    Object.assign(ghost.style, { left: b.x * 100 + "%", top: b.y * 100 + "%", width: b.w * 100 + "%", height: b.h * 100 + "%" });
  });
  stage.addEventListener("pointerup", (event) => {
    if (!start) return;
    const end = fraction(event);
    ghost.remove();
    const b = bounds([start, end]);
    start = null;
    if (b.w < 0.01 || b.h < 0.01) return; // a click, not a drag
    const round = (v) => Math.round(v * 10000) / 10000;
    const points = [[b.x, b.y], [b.x + b.w, b.y], [b.x + b.w, b.y + b.h], [b.x, b.y + b.h]].map((p) => p.map(round));
    areas.push({ article: articles.length === 1 ? articles[0].pk : null, points });
    render();
  });
  form.addEventListener("submit", sync);
  render();
})();
