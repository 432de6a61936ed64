import { GraphQLJSON } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Resolver,
  Root,
} from 'type-graphql';
import { eraseDataSubject } from '../../services/erasure-service.js';
import { openPersonalData } from '../../services/personal-data-presenter.js';
import type { RequestContext } from '../context.js';
import { Can } from '../permissions.js';
import { serviceActorOf as actorOf } from '../service-actor.js';
import { ReviewTask } from '../types/review.js';
import { Run, StepRun } from '../types/run.js';

@InputType()
class EraseDataSubjectInput {
  @Field(() => String, { description: 'The data subject, by e-mail address (never stored).' })
  email!: string;
}

@ObjectType({ description: 'Proof that a data subject was erased (GDPR Art. 17).' })
class ErasureCertificate {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: 'The erased subject; the address itself is never stored.' })
  subjectId!: string;
  @Field(() => Int, { description: 'Subject keys destroyed by this request (0 on a repeat).' })
  keysDestroyed!: number;
  @Field(() => GraphQLJSON, {
    description: 'Rows that held a plaintext copy of the address and were purged, per table.',
  })
  purged!: Record<string, number>;
  @Field(() => Boolean, { description: 'True when an earlier request had already erased it.' })
  alreadyErased!: boolean;
  @Field(() => Date) erasedAt!: Date;
}

@ObjectType()
class EraseDataSubjectPayload {
  @Field(() => ErasureCertificate) certificate!: ErasureCertificate;
}

@Resolver()
export class ErasureResolver {
  @Mutation(() => EraseDataSubjectPayload, {
    description:
      "Erases a data subject by crypto-shredding: destroys the subject's key so every sealed value of theirs reads as [erased], while the audit chain still verifies. Idempotent.",
  })
  @Can('delete', 'DataSubject')
  async eraseDataSubject(
    @Arg('input', () => EraseDataSubjectInput) input: EraseDataSubjectInput,
    @Ctx() ctx: RequestContext,
  ) {
    const c = await eraseDataSubject(ctx.appPool, actorOf(ctx), ctx.marketplace.keyProvider, {
      email: input.email,
    });
    return Object.assign(new EraseDataSubjectPayload(), {
      certificate: Object.assign(new ErasureCertificate(), {
        id: c.certificateId,
        subjectId: c.subjectId,
        keysDestroyed: c.keysDestroyed,
        purged: c.purged,
        alreadyErased: c.alreadyErased,
        erasedAt: new Date(c.erasedAt),
      }),
    });
  }
}

// Runs and step outputs are stored with personal values sealed; readers who may see the run see
// them opened (erased subjects as [erased]). Values without tokens cost nothing.

@Resolver(() => Run)
export class RunPersonalDataResolver {
  @FieldResolver(() => GraphQLJSON)
  async input(@Root() run: Run, @Ctx() ctx: RequestContext) {
    return openPersonalData(ctx, run.input);
  }

  @FieldResolver(() => GraphQLJSON, { nullable: true })
  async output(@Root() run: Run, @Ctx() ctx: RequestContext) {
    return openPersonalData(ctx, run.output);
  }
}

@Resolver(() => StepRun)
export class StepRunPersonalDataResolver {
  @FieldResolver(() => GraphQLJSON, { nullable: true })
  async output(@Root() step: StepRun, @Ctx() ctx: RequestContext) {
    return openPersonalData(ctx, step.output);
  }
}

@Resolver(() => ReviewTask)
export class ReviewTaskPersonalDataResolver {
  @FieldResolver(() => GraphQLJSON)
  async data(@Root() task: ReviewTask, @Ctx() ctx: RequestContext) {
    return openPersonalData(ctx, task.data);
  }
}
