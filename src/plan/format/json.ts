/** `--json`: the report as plain data (the original Dockerfile texts and image histories left out: they are inputs). */
import type { PlanReport } from '../report.js';

export function planJson(report: PlanReport): unknown {
  return {
    ...report,
    plan: report.plan && {
      ...report.plan,
      services: report.plan.services.map(({ original: _original, ...s }) => s),
    },
    sharing: report.sharing && {
      ...report.sharing,
      images: report.sharing.images.map(({ history: _history, ...i }) => i),
    },
  };
}
