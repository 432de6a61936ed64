import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { notFound } from '../../errors.js';
import { getTenant } from '../../services/member-presenter.js';
import { getWorkflow } from '../../services/workflow-presenter.js';
import { type RequestContext, requireAuth } from '../context.js';
import { parseGlobalId } from '../global-id.js';
import { SignedIn } from '../permissions.js';
import { Node } from '../types/common.js';
import { Tenant } from '../types/tenant.js';
import { Workflow } from '../types/workflow.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    description: "Any object by its global id. Another tenant's ids are NOT_FOUND.",
  })
  @SignedIn()
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Node> {
    const { actor, ability } = requireAuth(ctx);
    const parsed = parseGlobalId(id);
    if (!parsed || !UUID.test(parsed.key)) throw notFound('That object');
    switch (parsed.type) {
      case 'Tenant': {
        ability.assert('read', 'Tenant');
        const row =
          parsed.key === actor.tenantId ? await getTenant(ctx.appPool, actor.tenantId) : undefined;
        if (!row) throw notFound('That tenant');
        return Tenant.from(row);
      }
      case 'Workflow': {
        ability.assert('read', 'Workflow');
        const row = await getWorkflow(ctx.appPool, actor.tenantId, parsed.key);
        if (!row) throw notFound('That workflow');
        return Workflow.from(row);
      }
      default:
        throw notFound('That object');
    }
  }
}
