import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { notFound } from '../../errors.js';
import { getTenant, listMembers } from '../../services/member-presenter.js';
import { type RequestContext, requireAuth } from '../context.js';
import { encodeCursor, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { Connection } from '../types/connection.js';
import { Member } from '../types/member.js';
import { Tenant } from '../types/tenant.js';

export const MemberConnection = Connection('Member', Member, (m) =>
  encodeCursor({ createdAt: m.createdAt, id: m.userId }),
);

@Resolver()
export class TenantResolver {
  @Query(() => Tenant, { description: "The caller's tenant." })
  @Can('read', 'Tenant')
  async tenant(@Ctx() ctx: RequestContext): Promise<Tenant> {
    const { actor } = requireAuth(ctx);
    const row = await getTenant(ctx.appPool, actor.tenantId);
    if (!row) throw notFound('Your tenant');
    return Tenant.from(row);
  }

  @Query(() => MemberConnection)
  @Can('read', 'Member')
  async members(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const { actor, ability } = requireAuth(ctx);
    const page = await listMembers(ctx.appPool, actor.tenantId, pageRequest({ first, after }));
    // Field rules: a role that may not read e-mail addresses gets null there.
    const mayReadEmail = ability.can('read', 'Member', 'email');
    return MemberConnection.from({
      ...page,
      nodes: page.nodes.map((m) => Member.from({ ...m, email: mayReadEmail ? m.email : null })),
    });
  }
}
