// A copy of a model whose chosen intermediate tensors are extra graph outputs, so one float run shows
// their values (calibration). A tensor inside an `If` branch is passed out through the If: it becomes
// an extra output of that branch, the other branch answers an empty float tensor in its place (If-11
// lets the branches' shapes differ), and the If node gets an extra output carrying it.

import { DataType, floatTensor, makeNode, NameScope, onnx, type Graph, type Model, type ValueInfo } from './onnx-io.ts';

function floatOutput(name: string): ValueInfo {
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.FLOAT } } }) as unknown as ValueInfo;
}

/** Exposes the wanted tensors produced in `graph` or below; returns wanted name → name in `graph`. */
function exposeIn(graph: Graph, wanted: ReadonlySet<string>, names: NameScope): Map<string, string> {
  const found = new Map<string, string>();
  for (const node of graph.node) for (const out of node.output) if (wanted.has(out)) found.set(out, out);
  for (const node of [...graph.node]) {
    if (node.opType !== 'If') continue;
    const thenBranch = node.attribute.find((a) => a.name === 'then_branch')?.g;
    const elseBranch = node.attribute.find((a) => a.name === 'else_branch')?.g;
    if (!thenBranch || !elseBranch) continue;
    const fromThen = exposeIn(thenBranch, wanted, names);
    const fromElse = exposeIn(elseBranch, wanted, names);
    for (const [branch, other, inner] of [
      [thenBranch, elseBranch, fromThen],
      [elseBranch, thenBranch, fromElse],
    ] as const) {
      for (const [tensor, innerName] of inner) {
        if (found.has(tensor)) continue;
        const empty = names.unique(`${tensor}_absent`);
        other.initializer.push(floatTensor(empty, [0], new Float32Array(0)));
        const emptyOut = names.unique(`${tensor}_absent_out`);
        other.node.push(makeNode('Identity', [empty], [emptyOut], names.unique(`${tensor}_absent_Identity`)));
        const carried = names.unique(`${tensor}_carried`);
        branch.node.push(makeNode('Identity', [innerName], [carried], names.unique(`${tensor}_carried_Identity`)));
        // Branch output k pairs with the other branch's output k: append to both in step.
        branch.output.push(floatOutput(carried));
        other.output.push(floatOutput(emptyOut));
        const outer = names.unique(`${tensor}_exposed`);
        node.output.push(outer);
        found.set(tensor, outer);
      }
    }
  }
  return found;
}

/** Returns the instrumented copy and, for each wanted tensor reachable, the output that carries it. */
export function exposeTensors(model: Model, wanted: ReadonlySet<string>): { model: Model; outputs: Map<string, string> } {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model as never).finish()) as unknown as Model;
  const names = new NameScope(copy);
  const outputs = exposeIn(copy.graph, wanted, names);
  const declared = new Set(copy.graph.output.map((o) => o.name));
  for (const name of outputs.values()) if (!declared.has(name)) copy.graph.output.push(floatOutput(name));
  return { model: copy, outputs };
}
