// The invocation chart: per function, invocations and failures in each minute of the last hour,
// as inline SVG built with DOM calls (no library, no markup strings). Each chart also carries
// a text summary for screen readers.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 90;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** Charts of `stats` (the answer of /api/v1/admin/stats/invocations): one per function. */
export function invocationChart(stats) {
  const minutes = stats.minutes;
  const start = new Date(stats.since).getTime();
  const byName = new Map();
  for (const point of stats.points) {
    const key = `${point.kind} ${point.name}`;
    if (!byName.has(key)) byName.set(key, { name: point.name, kind: point.kind, counts: new Array(minutes).fill(null).map(() => [0, 0]) });
    const index = Math.floor((new Date(point.minute).getTime() - start) / 60000);
    if (index >= 0 && index < minutes) byName.get(key).counts[index] = [point.invocations, point.failures];
  }
  if (byName.size === 0) return h("p", { class: "empty" }, "No invocations in the last hour.");
  const wrap = h("div", { class: "charts" });
  for (const series of byName.values()) {
    const max = Math.max(1, ...series.counts.map(([n]) => n));
    const total = series.counts.reduce((a, [n]) => a + n, 0);
    const failed = series.counts.reduce((a, [, f]) => a + f, 0);
    const summary = `${series.kind} ${series.name}: ${total} invocations, ${failed} failures in the last ${minutes} minutes (peak ${max} per minute)`;
    const bar = WIDTH / minutes;
    const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT + 14}`, role: "img", "aria-label": summary, class: "chart" },
      svg("title", {}, summary));
    chart.append(svg("line", { x1: 0, y1: HEIGHT, x2: WIDTH, y2: HEIGHT, class: "axis" }));
    series.counts.forEach(([n, f], i) => {
      if (n === 0) return;
      const height = (n / max) * (HEIGHT - 4);
      const failHeight = (f / max) * (HEIGHT - 4);
      chart.append(svg("rect", { x: i * bar + 0.5, y: HEIGHT - height, width: Math.max(1, bar - 1), height, class: "ok" },
        svg("title", {}, `${n} invocations, ${f} failures`)));
      if (f > 0) chart.append(svg("rect", { x: i * bar + 0.5, y: HEIGHT - failHeight, width: Math.max(1, bar - 1), height: failHeight, class: "failed" }));
    });
    chart.append(svg("text", { x: 0, y: HEIGHT + 12, class: "tick" }, `-${minutes} min`));
    chart.append(svg("text", { x: WIDTH, y: HEIGHT + 12, class: "tick end" }, "now"));
    chart.append(svg("text", { x: 2, y: 10, class: "tick" }, `${max}/min`));
    wrap.append(h("figure", { class: "chart-figure", "data-chart": series.name },
      h("figcaption", {}, h("strong", {}, series.name), ` ${total} invocations, `, h("span", { class: "failed-text" }, `${failed} failures`)),
      chart));
  }
  return wrap;
}
