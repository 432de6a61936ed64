import type jsonata from 'jsonata';

/** A name an expression reads from its root scope, e.g. `steps.classify` -> root steps, key classify. */
export interface ExpressionReference {
  root: string;
  /** The field read under the root (`classify` in `steps.classify.output`), when static. */
  key?: string;
  position?: number;
}

interface Node {
  type: string;
  value?: unknown;
  position?: number;
  steps?: Node[];
  arguments?: Node[];
  expressions?: Node[];
  expression?: Node;
  condition?: Node;
  then?: Node;
  else?: Node;
  lhs?: Node | [Node, Node][];
  rhs?: Node;
}

/**
 * Names read from the root scope, found statically. Only paths evaluated against the root are
 * considered: paths inside predicates, later path steps, lambdas and sort/group terms have another
 * context, so checking them would reject valid expressions.
 */
export function rootReferences(ast: jsonata.ExprNode): ExpressionReference[] {
  const out: ExpressionReference[] = [];
  visit(ast as unknown as Node, out);
  return out;
}

function visit(node: Node | undefined, out: ExpressionReference[]): void {
  if (!node || typeof node !== 'object') return;
  switch (node.type) {
    case 'path': {
      const steps = node.steps ?? [];
      let first = steps[0];
      let second = steps[1];
      // `$$.x` and `$.x` at the top level read the same root as `x`.
      if (first?.type === 'variable' && (first.value === '$' || first.value === '')) {
        first = steps[1];
        second = steps[2];
      }
      if (first?.type === 'name') {
        out.push({
          root: String(first.value),
          ...(second?.type === 'name' ? { key: String(second.value) } : {}),
          ...(first.position === undefined ? {} : { position: first.position }),
        });
      } else if (first && first.type !== 'variable') {
        visit(first, out);
      }
      return;
    }
    case 'binary':
      visit(node.lhs as Node, out);
      visit(node.rhs, out);
      return;
    case 'unary':
      if (node.value === '-') visit(node.expression, out);
      if (node.value === '[') for (const e of node.expressions ?? []) visit(e, out);
      if (node.value === '{')
        for (const pair of (node.lhs ?? []) as [Node, Node][]) visit(pair[1], out);
      return;
    case 'function':
    case 'partial':
      for (const arg of node.arguments ?? []) visit(arg, out);
      return;
    case 'condition':
      visit(node.condition, out);
      visit(node.then, out);
      visit(node.else, out);
      return;
    case 'block':
      for (const e of node.expressions ?? []) visit(e, out);
      return;
    case 'bind':
      visit(node.rhs, out);
      return;
    case 'apply':
      visit(node.lhs as Node, out);
      visit(node.rhs, out);
      return;
    default:
      return;
  }
}
