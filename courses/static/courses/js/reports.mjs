// The reports page's chart: ECharts (about 1 MB) is fetched only when the chart scrolls into view, so the table,
// which holds every number, is usable at once on a weak network.
const box = document.querySelector("[data-chart]");
const data = JSON.parse(document.getElementById("report-chart-data")?.textContent || "null");

const COLOURS = ["#b22222", "#d4a017"];

function draw() {
  const chart = window.echarts.init(box, null, { renderer: "svg" });
  chart.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => `${v}%` },
    legend: { data: data.series.map((line) => line.name), textStyle: { fontSize: 16 } },
    grid: { left: 8, right: 8, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.units, axisLabel: { interval: 0, rotate: data.units.length > 6 ? 40 : 0, fontSize: 14 } },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%", fontSize: 14 } },
    series: data.series.map((line, index) => ({
      name: line.name, type: "bar", data: line.values, itemStyle: { color: COLOURS[index % COLOURS.length] },
    })),
  });
  addEventListener("resize", () => chart.resize());
}

function load() {
  const script = document.createElement("script");
  script.src = box.dataset.echarts;
  script.onload = draw;
  document.head.append(script);
}

if (box && data) {
  const seen = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) { seen.disconnect(); load(); }
  });
  seen.observe(box);
}
