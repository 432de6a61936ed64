import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError, type GraphQLSchema, Lexer, Source, TokenKind } from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/** Limits on the shape of a document, checked before any resolver runs. */
export const DOCUMENT_LIMITS = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 10,
  maxTokens: 2_000,
  /** Query cost: every field costs 1, a connection multiplies what is under it by `first`. */
  maxCost: 5_000,
} as const;

/** graphql-armor: depth, aliases, directives, tokens, no field suggestions, no batching. */
export function armor() {
  return new ApolloArmor({
    maxDepth: { n: DOCUMENT_LIMITS.maxDepth, ignoreIntrospection: false, flattenFragments: true },
    maxAliases: { n: DOCUMENT_LIMITS.maxAliases },
    maxDirectives: { n: DOCUMENT_LIMITS.maxDirectives },
    // Counted in a fastify hook instead (tokenLimitHook): armor's parser plugin throws where
    // Apollo answers 500, and the hook refuses the document before Apollo even parses it.
    maxTokens: { enabled: false },
    // Cost is computed below with the request's variables, so `first: $n` counts.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  }).protect();
}

const firstArgumentEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const first = typeof args.first === 'number' && args.first > 0 ? args.first : null;
  return first === null ? undefined : 1 + childComplexity * first;
};

/** Rejects a document whose cost exceeds the limit, before execution. */
export function costLimitPlugin(
  schema: GraphQLSchema,
  maxCost = DOCUMENT_LIMITS.maxCost,
): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          let cost: number;
          try {
            cost = getComplexity({
              schema,
              query: document,
              variables: request.variables ?? {},
              ...(request.operationName ? { operationName: request.operationName } : {}),
              estimators: [firstArgumentEstimator, simpleEstimator({ defaultComplexity: 1 })],
            });
          } catch {
            // Variables that do not coerce: Apollo refuses them next with BAD_USER_INPUT, before
            // any resolver runs, so there is nothing to cost.
            return;
          }
          if (cost > maxCost) {
            throw new GraphQLError(
              `Query cost ${cost} exceeds the limit of ${maxCost}. Ask for fewer items (first) or fewer fields.`,
              {
                extensions: {
                  code: 'GRAPHQL_VALIDATION_FAILED',
                  cost,
                  maxCost,
                  http: { status: 400 },
                },
              },
            );
          }
        },
      };
    },
  };
}

/** Counts lexical tokens up to the limit; stops early so a huge document costs little. */
export function exceedsTokenLimit(
  query: string,
  limit: number = DOCUMENT_LIMITS.maxTokens,
): boolean {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      if (++count > limit) return true;
    }
  } catch {
    return false; // A syntax error: Apollo's parser reports it with its own message.
  }
  return false;
}

/** fastify preHandler for /graphql: a document over the token limit gets 400 before parsing. */
export async function tokenLimitHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const source =
    request.method === 'GET'
      ? (request.query as { query?: unknown } | undefined)?.query
      : (request.body as { query?: unknown } | undefined)?.query;
  if (typeof source === 'string' && exceedsTokenLimit(source)) {
    await reply
      .code(400)
      .type('application/json')
      .send({
        errors: [
          {
            message: `The document has more than ${DOCUMENT_LIMITS.maxTokens} tokens. Split it into smaller operations.`,
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          },
        ],
      });
  }
}
