import type { DeploymentRow, ModelRow, ModelVersionRow, RunnerPoolRow } from '@roster/inference';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

export enum DeploymentStageEnum {
  LIVE = 'live',
  CANARY = 'canary',
  SHADOW = 'shadow',
}
registerEnumType(DeploymentStageEnum, {
  name: 'DeploymentStage',
  description:
    'live serves; canary serves a traffic share and rolls back on its own; shadow never acts.',
});

export enum DeploymentStatusEnum {
  ACTIVE = 'active',
  ROLLED_BACK = 'rolled_back',
  RETIRED = 'retired',
}
registerEnumType(DeploymentStatusEnum, { name: 'DeploymentStatus' });

@ObjectType({ implements: Node, description: 'An ONNX model; its versions are immutable.' })
export class Model extends Node {
  modelId!: string;
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => Date) createdAt!: Date;

  static from(row: ModelRow): Model {
    return Object.assign(new Model(), { ...row, modelId: row.id, id: toGlobalId('Model', row.id) });
  }
}

@ObjectType({ implements: Node, description: 'One uploaded model file with its metadata.' })
export class ModelVersion extends Node {
  versionId!: string;
  @Field(() => String) modelName!: string;
  @Field(() => Int) version!: number;
  @Field(() => String, { description: 'sha-256 of the file: its content address.' })
  sha256!: string;
  @Field(() => Int, { description: 'File size, bytes.' }) size!: number;
  @Field(() => [String], { description: 'One per output column, in order.' }) labels!: string[];
  @Field(() => GraphQLJSONObject, {
    description: 'Inputs and outputs read with onnxruntime at upload.',
  })
  signature!: Record<string, unknown>;
  @Field(() => GraphQLJSONObject) featurizer!: Record<string, unknown>;
  @Field(() => GraphQLJSONObject) metrics!: Record<string, unknown>;
  @Field(() => String) status!: string;
  @Field(() => Date) createdAt!: Date;

  static from(row: ModelVersionRow): ModelVersion {
    return Object.assign(new ModelVersion(), {
      ...row,
      signature: row.signature as unknown as Record<string, unknown>,
      featurizer: row.featurizer as unknown as Record<string, unknown>,
      versionId: row.id,
      id: toGlobalId('ModelVersion', row.id),
    });
  }
}

@ObjectType({ implements: Node, description: "A tenant's set of runner processes." })
export class RunnerPool extends Node {
  @Field(() => String) name!: string;
  @Field(() => [String]) providers!: string[];
  @Field(() => Int) maxBatch!: number;
  @Field(() => Float) maxQueueDelayMs!: number;
  @Field(() => Date) createdAt!: Date;

  static from(row: RunnerPoolRow): RunnerPool {
    return Object.assign(new RunnerPool(), { ...row, id: toGlobalId('RunnerPool', row.id) });
  }
}

@ObjectType({ implements: Node, description: 'Where and how a model version serves.' })
export class Deployment extends Node {
  @Field(() => ID) modelVersionId!: string;
  @Field(() => ID) runnerPoolId!: string;
  @Field(() => String) sha256!: string;
  @Field(() => DeploymentStageEnum) stage!: DeploymentStageEnum;
  @Field(() => Float, { nullable: true }) trafficShare!: number | null;
  @Field(() => DeploymentStatusEnum) status!: DeploymentStatusEnum;
  @Field(() => String, { nullable: true }) statusReason!: string | null;
  @Field(() => GraphQLJSONObject, { description: 'Automatic rollback thresholds (canary).' })
  rollback!: Record<string, unknown>;
  @Field(() => Date) createdAt!: Date;

  static from(row: DeploymentRow): Deployment {
    return Object.assign(new Deployment(), {
      id: toGlobalId('Deployment', row.id),
      modelVersionId: toGlobalId('ModelVersion', row.modelVersionId),
      runnerPoolId: toGlobalId('RunnerPool', row.poolId),
      sha256: row.sha256,
      stage: row.stage as DeploymentStageEnum,
      trafficShare: row.trafficShare ?? null,
      status: row.status as DeploymentStatusEnum,
      statusReason: row.statusReason,
      rollback: row.rollback as Record<string, unknown>,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType({ description: 'A synchronous inference result.' })
export class InferResult {
  @Field(() => String) requestId!: string;
  @Field(() => String) label!: string;
  @Field(() => Float) confidence!: number;
  @Field(() => GraphQLJSONObject, { description: 'Every class score, by label.' })
  scores!: Record<string, number>;
  @Field(() => String, { description: 'sha-256 of the model version that answered.' })
  modelVersion!: string;
  @Field(() => ID) deploymentId!: string;
  @Field(() => String, { description: 'sha-256 of the canonical input.' }) fingerprint!: string;
  @Field(() => Float, { nullable: true }) latencyMs!: number | null;
}

@ObjectType('ShadowReport', {
  description: "A shadow deployment's agreement with live and with reviewers.",
})
export class ShadowReportType {
  @Field(() => Int, { description: 'Run steps scored by both shadow and live.' }) compared!: number;
  @Field(() => Int, { description: 'Of those, steps where a person gave the label.' })
  reviewed!: number;
  @Field(() => Float, { nullable: true }) agreementWithLive!: number | null;
  @Field(() => Float, { nullable: true }) shadowHumanAgreement!: number | null;
  @Field(() => Float, { nullable: true }) liveHumanAgreement!: number | null;
}
