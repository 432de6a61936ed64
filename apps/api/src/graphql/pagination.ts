import { badInput } from '../errors.js';

/** Hard cap on `first`: a page never has more rows than this. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface PageRequest {
  limit: number;
  /** Keyset position: rows strictly after (createdAt, id) in (created_at, id) order. */
  after: { createdAt: Date; id: string } | null;
}

export function pageRequest(args: PageArgs): PageRequest {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `first must be a whole number from 0 to ${MAX_PAGE_SIZE}.`);
  }
  return { limit: first, after: args.after ? decodeCursor(args.after) : null };
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      string,
      string,
    ];
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id))
      throw new Error('shape');
    return { createdAt, id };
  } catch {
    throw badInput(
      'after',
      'after is not a cursor from this list. Pass an endCursor from a previous page.',
    );
  }
}

/** Turns limit+1 fetched rows into a page: the extra row only says whether there is a next one. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number) {
  const nodes = rows.slice(0, limit);
  return {
    nodes,
    hasNextPage: rows.length > limit,
    endCursor: nodes.length ? encodeCursor(nodes[nodes.length - 1] as T) : null,
  };
}
