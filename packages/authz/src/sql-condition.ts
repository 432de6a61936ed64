// Turns an ability into a parameterised SQL condition for list queries. It denies by
// default: no allowing rule gives null, and an operator it does not know throws rather
// than being skipped (skipping a condition would widen access).
import { rulesToAST } from '@casl/ability/extra';
import type { RosterAbility } from './ability.js';
import { AuthzError } from './errors.js';
import { type Action, isDeclared, type SubjectName } from './vocabulary.js';

export interface SqlCondition {
  sql: string;
  params: unknown[];
}

export interface SqlConditionOptions {
  /** Number of the first `$n` placeholder, for splicing into a larger query; default 1. */
  firstParam?: number;
}

// The shape of @ucast's condition tree: compound nodes hold a list, field nodes a value.
interface AstNode {
  operator: string;
  field?: string;
  value: unknown;
}

const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/**
 * The rows of `subjectType` the ability may `action`, as a WHERE fragment, or null when it
 * may touch none (run no query). `columnMap` maps condition fields (e.g. `tenantId`) to
 * columns (e.g. `w.tenant_id`); a field it lacks throws UNMAPPED_FIELD.
 */
export function accessibleSqlCondition(
  ability: RosterAbility,
  action: Action,
  subjectType: SubjectName,
  columnMap: Readonly<Record<string, string>>,
  options: SqlConditionOptions = {},
): SqlCondition | null {
  if (!isDeclared(action, subjectType)) return null;
  const params: unknown[] = [];
  const writer = new SqlWriter(columnMap, params, options.firstParam ?? 1);
  const parts: string[] = [];
  for (const layer of ability.layers) {
    const ast = rulesToAST(layer, action, subjectType) as AstNode | null;
    if (ast === null) return null;
    const sql = writer.write(ast);
    if (sql !== 'TRUE') parts.push(sql);
  }
  if (parts.length === 0) return { sql: 'TRUE', params };
  return { sql: parts.length === 1 ? (parts[0] as string) : parts.map(wrap).join(' AND '), params };
}

const wrap = (sql: string) => `(${sql})`;

class SqlWriter {
  constructor(
    private readonly columnMap: Readonly<Record<string, string>>,
    private readonly params: unknown[],
    private readonly firstParam: number,
  ) {}

  write(node: AstNode): string {
    switch (node.operator) {
      case 'and':
      case 'or':
        return this.compound(node.operator, this.children(node));
      case 'not': {
        const [inner] = this.children(node);
        if (inner === undefined) throw unsupported(node, 'a `not` without an operand');
        // SQL is three-valued: `col = $1` is NULL when col is NULL, and NOT NULL stays NULL
        // (row dropped), whereas CASL reads it as false and its negation as true.
        return `NOT COALESCE(${this.write(inner)}, FALSE)`;
      }
      case 'eq':
        return node.value === null
          ? `${this.column(node)} IS NULL`
          : `${this.column(node)} = ${this.param(node.value)}`;
      case 'ne':
        return node.value === null
          ? `${this.column(node)} IS NOT NULL`
          : `${this.column(node)} IS DISTINCT FROM ${this.param(node.value)}`;
      case 'in':
        return `${this.column(node)} = ANY(${this.param(this.list(node))})`;
      case 'nin': {
        const column = this.column(node);
        return `(${column} IS NULL OR ${column} <> ALL(${this.param(this.list(node))}))`;
      }
      default:
        throw unsupported(node, `operator "${node.operator}"`);
    }
  }

  private compound(operator: 'and' | 'or', children: AstNode[]): string {
    if (children.length === 0) return operator === 'and' ? 'TRUE' : 'FALSE';
    const parts = children.map((c) => this.write(c));
    if (parts.length === 1) return parts[0] as string;
    return parts.map(wrap).join(operator === 'and' ? ' AND ' : ' OR ');
  }

  private children(node: AstNode): AstNode[] {
    if (!Array.isArray(node.value)) throw unsupported(node, `a malformed "${node.operator}" node`);
    return node.value as AstNode[];
  }

  private list(node: AstNode): unknown[] {
    if (!Array.isArray(node.value)) throw unsupported(node, `"${node.operator}" without a list`);
    return node.value;
  }

  private column(node: AstNode): string {
    const field = node.field ?? '';
    const column = Object.hasOwn(this.columnMap, field) ? this.columnMap[field] : undefined;
    if (column === undefined) {
      throw new AuthzError(
        'UNMAPPED_FIELD',
        `The policy has a condition on "${field}", which the column map does not name; add it to the columnMap passed to accessibleSqlCondition.`,
        { field },
      );
    }
    if (!COLUMN.test(column)) {
      throw new AuthzError(
        'INVALID_COLUMN',
        `Column "${column}" for field "${field}" is not a plain identifier (optionally table-qualified); use a name like w.tenant_id.`,
        { field, column },
      );
    }
    return column;
  }

  private param(value: unknown): string {
    this.params.push(value);
    return `$${this.firstParam + this.params.length - 1}`;
  }
}

function unsupported(node: AstNode, what: string): AuthzError {
  return new AuthzError(
    'UNSUPPORTED_CONDITION',
    `Cannot turn ${what} into SQL; use only eq, ne, in, nin, and, or, not in policy conditions.`,
    { operator: node.operator, ...(node.field === undefined ? {} : { field: node.field }) },
  );
}
