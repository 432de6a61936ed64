import { getRun, getRunLinks } from '@roster/engine';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { type RequestContext, requireAuth } from '../context.js';
import { Run } from '../types/run.js';

/**
 * Sub-workflow links of a run (callWorkflow steps): who started it and what it started. Reading
 * a run already needed `read Run`; the linked runs are runs of the same tenant.
 */
@Resolver(() => Run)
export class RunFlowResolver {
  @FieldResolver(() => Run, {
    nullable: true,
    description: 'The run whose callWorkflow step started this run; null for a top-level run.',
  })
  async parentRun(@Root() run: Run, @Ctx() ctx: RequestContext): Promise<Run | null> {
    const { actor } = requireAuth(ctx);
    const links = await getRunLinks(ctx.appPool, actor.tenantId, run.runId);
    if (!links.parentRunId) return null;
    return Run.from(await getRun(ctx.appPool, actor.tenantId, links.parentRunId));
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      'The parent step that started this run (`step`, or `step@i` inside a map iteration).',
  })
  async parentStep(@Root() run: Run, @Ctx() ctx: RequestContext): Promise<string | null> {
    const { actor } = requireAuth(ctx);
    return (await getRunLinks(ctx.appPool, actor.tenantId, run.runId)).parentStep;
  }

  @FieldResolver(() => [Run], {
    description: "Runs started by this run's callWorkflow steps, oldest first.",
  })
  async childRuns(@Root() run: Run, @Ctx() ctx: RequestContext): Promise<Run[]> {
    const { actor } = requireAuth(ctx);
    const { childRunIds } = await getRunLinks(ctx.appPool, actor.tenantId, run.runId);
    return Promise.all(
      childRunIds.map(async (id) => Run.from(await getRun(ctx.appPool, actor.tenantId, id))),
    );
  }
}
