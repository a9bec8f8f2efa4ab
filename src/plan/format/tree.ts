/**
 * The plan as a tree for drawing: FROM images at the roots, base images inside, and the stages that
 * build on each (a stage with no base hangs from its FROM image). Shared by the TTY and HTML output.
 */
import type { Plan } from '../model.js';
import type { NodeSize, TreeSizes } from '../savings.js';

export interface TreeNode {
  kind: 'image' | 'base' | 'stage';
  /** Unique within the tree: image:<name>, base:<id>, stage:<service>#<index>. */
  id: string;
  label: string;
  /** One line: what the node adds. */
  detail: string;
  size: NodeSize | undefined;
  /** Services on it (bases), the service (stages). */
  services: string[];
  children: TreeNode[];
}

function stageLabel(plan: Plan, service: string, index: number): string {
  const sp = plan.services.find((s) => s.name === service)!;
  if (sp.stages.length === 1 || index === sp.finalStage) return service;
  return `${service} (stage ${sp.stages[index]!.name ?? index})`;
}

export function planTree(plan: Plan, sizes: TreeSizes | undefined): TreeNode[] {
  const roots = new Map<string, TreeNode>();
  const root = (image: string): TreeNode => {
    let r = roots.get(image);
    if (!r) {
      r = { kind: 'image', id: `image:${image}`, label: image.replace(/^docker\.io\/(library\/)?/, ''), detail: 'FROM image', size: sizes?.images[image], services: [], children: [] };
      roots.set(image, r);
    }
    return r;
  };
  const stageNode = (service: string, index: number): TreeNode => {
    const st = plan.services.find((s) => s.name === service)!.stages[index]!;
    const rest = st.steps.length - Math.max(st.replaced, 1);
    const layers = st.steps.slice(Math.max(st.replaced, 1)).filter((s) => s.layer).length;
    return {
      kind: 'stage',
      id: `stage:${service}#${index}`,
      label: stageLabel(plan, service, index),
      detail: `${rest} step${rest === 1 ? '' : 's'}, ${layers} layer${layers === 1 ? '' : 's'}${st.reordered ? ', reordered' : ''}`,
      size: sizes?.stages[`${service}#${index}`],
      services: [service],
      children: [],
    };
  };
  const bases = new Map<number, TreeNode>();
  // Services in input order decide the order of roots.
  for (const sp of plan.services) for (const st of sp.stages) if (st.image !== undefined) root(st.image);
  for (const b of plan.bases) {
    const layers = b.steps.filter((s) => s.layer).length;
    const node: TreeNode = {
      kind: 'base',
      id: `base:${b.id}`,
      label: b.name,
      detail: `${b.steps.length} step${b.steps.length === 1 ? '' : 's'}, ${layers} layer${layers === 1 ? '' : 's'}`,
      size: sizes?.bases[b.id],
      services: b.services,
      children: [],
    };
    bases.set(b.id, node);
    if (b.parent.kind === 'base') bases.get(b.parent.id)!.children.push(node);
    else {
      const first = b.members[0]!;
      root(plan.services.find((s) => s.name === first.service)!.stages[first.stage]!.image!).children.push(node);
    }
  }
  for (const b of plan.bases) for (const st of b.stages) bases.get(b.id)!.children.push(stageNode(st.service, st.stage));
  for (const sp of plan.services) {
    for (const st of sp.stages) if (st.image !== undefined && st.base === undefined) root(st.image).children.push(stageNode(sp.name, st.index));
  }
  for (const r of roots.values()) r.services = [...new Set(collect(r))];
  return [...roots.values()];
}

function collect(n: TreeNode): string[] {
  return n.kind === 'stage' ? n.services : n.children.flatMap(collect);
}
