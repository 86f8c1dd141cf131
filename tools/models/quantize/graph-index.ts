// Who consumes each tensor of a graph, counting uses inside nested subgraphs as uses of the outer name.

import { allGraphs, type Graph, type Node } from './onnx-io.ts';

export interface Use {
  /** null for a graph output. */
  node: Node | null;
  /** Input slot of `node`; -1 for a use somewhere inside one of its subgraphs. */
  index: number;
}

export function consumers(graph: Graph): Map<string, Use[]> {
  const uses = new Map<string, Use[]>();
  const add = (name: string, use: Use) => {
    if (!name) return;
    const list = uses.get(name);
    if (list) list.push(use);
    else uses.set(name, [use]);
  };
  for (const node of graph.node) {
    node.input.forEach((name, index) => add(name, { node, index }));
    for (const attr of node.attribute) {
      for (const sub of [...(attr.g ? [attr.g] : []), ...attr.graphs]) {
        for (const inner of allGraphs(sub)) {
          for (const n of inner.node) for (const name of n.input) add(name, { node, index: -1 });
          for (const out of inner.output) add(out.name, { node, index: -1 });
        }
      }
    }
  }
  for (const out of graph.output) add(out.name, { node: null, index: -2 });
  return uses;
}
