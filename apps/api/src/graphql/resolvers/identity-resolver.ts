import {
  Arg,
  Ctx,
  Field,
  ID,
  InputType,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { auditContextOf } from '../../services/audit-actor.js';
import {
  acceptInvitation,
  inviteMember,
  listUserTenants,
  type SessionGrant,
  signIn,
  signOut,
  signUp,
  switchTenant,
} from '../../services/identity-service.js';
import { getTenant } from '../../services/member-presenter.js';
import { type RequestContext, requireAuth, requireSession } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { Can, Public, SignedIn } from '../permissions.js';
import { Invitation } from '../types/member.js';
import { Tenant, TenantMembership } from '../types/tenant.js';

@ObjectType({ description: 'Who is calling, in which tenant, with which role.' })
export class Viewer {
  @Field(() => ID)
  userId!: string;

  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => String, { description: "The member's role, or `apiKey` for an integrator key." })
  role!: string;

  @Field(() => [TenantMembership], {
    description: 'Every tenant this person belongs to (tenant switch).',
  })
  tenants!: TenantMembership[];
}

@InputType()
class SignUpInput {
  @Field(() => String) email!: string;
  @Field(() => String) password!: string;
  @Field(() => String) name!: string;
  @Field(() => String) tenantName!: string;
}

@InputType()
class SignInInput {
  @Field(() => String) email!: string;
  @Field(() => String) password!: string;
  @Field(() => String, {
    nullable: true,
    description: 'Which of your tenants to open; default the first by name.',
  })
  tenantSlug?: string | null;
}

@InputType()
class SwitchTenantInput {
  @Field(() => ID) tenantId!: string;
}

@InputType()
class InviteMemberInput {
  @Field(() => String) email!: string;
  @Field(() => String, { description: 'A role from policies/roles.yaml.' }) role!: string;
}

@InputType()
class AcceptInvitationInput {
  @Field(() => String) token!: string;
  @Field(() => String, {
    description: 'Your password (existing account) or the one to set (new account).',
  })
  password!: string;
  @Field(() => String, { nullable: true, description: 'Your name, for a new account.' }) name?:
    | string
    | null;
}

@ObjectType()
class SessionPayload {
  @Field(() => String, { description: 'Send as `Authorization: Bearer <token>`. Shown once.' })
  token!: string;
  @Field(() => Viewer) viewer!: Viewer;
}

@ObjectType()
class SignOutPayload {
  @Field(() => Boolean) signedOut!: boolean;
}

@ObjectType()
class SwitchTenantPayload {
  @Field(() => Viewer) viewer!: Viewer;
}

@ObjectType()
class InviteMemberPayload {
  @Field(() => Invitation) invitation!: Invitation;
  @Field(() => String, { description: 'The invitation token, to send to the invitee. Shown once.' })
  token!: string;
}

async function viewerFor(
  ctx: RequestContext,
  userId: string,
  tenantId: string,
  role: string,
): Promise<Viewer> {
  const [tenant, tenants] = await Promise.all([
    getTenant(ctx.appPool, tenantId),
    listUserTenants(ctx.appPool, userId),
  ]);
  if (!tenant) throw new Error('tenant of an authenticated caller is missing');
  return Object.assign(new Viewer(), {
    userId,
    tenant: Tenant.from(tenant),
    role,
    tenants: tenants.map((t) =>
      Object.assign(new TenantMembership(), {
        tenant: Tenant.from({ id: t.tenantId, slug: t.slug, name: t.name, createdAt: t.createdAt }),
        role: t.role,
      }),
    ),
  });
}

async function sessionPayload(ctx: RequestContext, grant: SessionGrant): Promise<SessionPayload> {
  const tenants = await listUserTenants(ctx.appPool, grant.userId);
  const role = tenants.find((t) => t.tenantId === grant.tenantId)?.role ?? 'viewer';
  return Object.assign(new SessionPayload(), {
    token: grant.token,
    viewer: await viewerFor(ctx, grant.userId, grant.tenantId, role),
  });
}

@Resolver()
export class IdentityResolver {
  @Query(() => Viewer, { description: 'The caller.' })
  @SignedIn()
  async viewer(@Ctx() ctx: RequestContext): Promise<Viewer> {
    const auth = requireAuth(ctx);
    const role = auth.actor.kind === 'member' ? auth.actor.role : 'apiKey';
    return viewerFor(ctx, auth.userId, auth.actor.tenantId, role);
  }

  @Mutation(() => SessionPayload, {
    description: 'Creates a tenant with you as its owner, and signs you in.',
  })
  @Public()
  async signUp(
    @Arg('input', () => SignUpInput) input: SignUpInput,
    @Ctx() ctx: RequestContext,
  ): Promise<SessionPayload> {
    return sessionPayload(ctx, await signUp(ctx, input));
  }

  @Mutation(() => SessionPayload)
  @Public()
  async signIn(
    @Arg('input', () => SignInInput) input: SignInInput,
    @Ctx() ctx: RequestContext,
  ): Promise<SessionPayload> {
    return sessionPayload(ctx, await signIn(ctx, input, ctx.ip));
  }

  @Mutation(() => SignOutPayload)
  @SignedIn()
  async signOut(@Ctx() ctx: RequestContext): Promise<SignOutPayload> {
    const auth = requireSession(ctx);
    ctx.authCache.evict((a) => a.sessionTokenHash === auth.sessionTokenHash);
    return {
      signedOut: await signOut(ctx.appPool, auth.sessionTokenHash, {
        tenantId: auth.actor.tenantId,
        context: auditContextOf(ctx, auth),
      }),
    };
  }

  @Mutation(() => SwitchTenantPayload, {
    description: 'Points your session at another of your tenants.',
  })
  @SignedIn()
  async switchTenant(
    @Arg('input', () => SwitchTenantInput) input: SwitchTenantInput,
    @Ctx() ctx: RequestContext,
  ) {
    const auth = requireSession(ctx);
    const tenantId = uuidFromGlobalId(input.tenantId, 'Tenant', 'input.tenantId');
    await switchTenant(ctx.appPool, auth.sessionTokenHash, tenantId, {
      fromTenantId: auth.actor.tenantId,
      context: auditContextOf(ctx, auth),
    });
    ctx.authCache.evict((a) => a.sessionTokenHash === auth.sessionTokenHash);
    const tenants = await listUserTenants(ctx.appPool, auth.userId);
    const role = tenants.find((t) => t.tenantId === tenantId)?.role ?? 'viewer';
    return Object.assign(new SwitchTenantPayload(), {
      viewer: await viewerFor(ctx, auth.userId, tenantId, role),
    });
  }

  @Mutation(() => InviteMemberPayload)
  @Can('create', 'Invitation')
  async inviteMember(
    @Arg('input', () => InviteMemberInput) input: InviteMemberInput,
    @Ctx() ctx: RequestContext,
  ) {
    const auth = requireAuth(ctx);
    const role = auth.actor.kind === 'member' ? auth.actor.role : auth.actor.creator.role;
    const result = await inviteMember(
      ctx,
      {
        tenantId: auth.actor.tenantId,
        userId: auth.userId,
        role,
        audit: auditContextOf(ctx, auth),
      },
      input,
    );
    return Object.assign(new InviteMemberPayload(), {
      token: result.token,
      invitation: Invitation.from(result.invitation),
    });
  }

  @Mutation(() => SessionPayload, {
    description: 'Joins the tenant of an invitation and signs you in there.',
  })
  @Public()
  async acceptInvitation(
    @Arg('input', () => AcceptInvitationInput) input: AcceptInvitationInput,
    @Ctx() ctx: RequestContext,
  ) {
    return sessionPayload(ctx, await acceptInvitation(ctx, input));
  }
}
