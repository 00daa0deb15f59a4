// Practice with instant feedback: a single choice or true/false is checked as soon as it is picked; a multiple
// choice or a blank when 看答案 is pressed. Without script the form checks everything at once.
import { format, gettext } from "../../js/words.mjs";

const form = document.getElementById("practice");

function csrfToken() {
  return form.querySelector("input[name=csrfmiddlewaretoken]").value;
}

function show(fieldset, body) {
  const feedback = fieldset.querySelector("[data-feedback]");
  feedback.replaceChildren();
  const verdict = document.createElement("p");
  const strong = document.createElement("strong");
  strong.textContent = body.correct ? gettext("答对了") : gettext("答错了");
  verdict.append(strong, ` · ${format(gettext("正确答案：%(key)s"), { key: body.key })}`);
  feedback.append(verdict);
  if (body.explanation) {
    const explanation = document.createElement("p");
    explanation.className = "explanation";
    explanation.textContent = format(gettext("解析：%(text)s"), { text: body.explanation });
    feedback.append(explanation);
  }
  fieldset.classList.toggle("right", body.correct);
  fieldset.classList.toggle("wrong", !body.correct);
}

async function check(fieldset) {
  const id = Number(fieldset.dataset.question);
  const options = [...fieldset.querySelectorAll("input:checked")].map((input) => input.value);
  const blanks = [...fieldset.querySelectorAll("input[type=text]")].map((input) => input.value);
  const payload = fieldset.dataset.kind === "blank" ? { question_id: id, blanks } : { question_id: id, options };
  try {
    const response = await fetch(form.dataset.checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    });
    const body = await response.json();
    if (response.ok) show(fieldset, body);
    else fieldset.querySelector("[data-feedback]").textContent = body.detail || gettext("暂时无法核对，请稍后再试。");
  } catch (error) {
    fieldset.querySelector("[data-feedback]").textContent = gettext("网络不通，暂时无法核对。");
  }
}

if (form) {
  form.addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset[data-question]");
    if (fieldset && ["single", "truefalse"].includes(fieldset.dataset.kind)) check(fieldset);
  });
  form.addEventListener("click", (event) => {
    if (!event.target.matches("[data-check]")) return;
    check(event.target.closest("fieldset[data-question]"));
  });
}
