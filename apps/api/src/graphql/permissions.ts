import type { Action, SubjectName } from '@roster/authz';
import { createMethodMiddlewareDecorator } from 'type-graphql';
import { type RequestContext, requireAuth } from './context.js';

/** What an operation needs before its resolver runs. The permission matrix test reads this. */
export type OperationRequirement =
  | { kind: 'public' }
  | { kind: 'signedIn' }
  | { kind: 'ability'; action: Action; subject: SubjectName };

const requirements = new Map<string, OperationRequirement>();

/** Every decorated operation (query or mutation field name) with its requirement. */
export function operationRequirements(): ReadonlyMap<string, OperationRequirement> {
  return requirements;
}

function record(name: string, requirement: OperationRequirement): void {
  if (requirements.has(name))
    throw new Error(`Operation ${name} is declared twice; field names must be unique.`);
  requirements.set(name, requirement);
}

const checkAbility = (action: Action, subject: SubjectName) =>
  createMethodMiddlewareDecorator<RequestContext>(async ({ context }, next) => {
    requireAuth(context).ability.assert(action, subject);
    return next();
  });

const checkSignedIn = createMethodMiddlewareDecorator<RequestContext>(async ({ context }, next) => {
  requireAuth(context);
  return next();
});

/**
 * The caller must be allowed `action` on some `subject` of their tenant (CASL, before the resolver
 * runs). Instance conditions (ownership, field rules) are checked again by the service on the row.
 */
export function Can(action: Action, subject: SubjectName): MethodDecorator {
  const middleware = checkAbility(action, subject);
  return (target, key, descriptor) => {
    record(String(key), { kind: 'ability', action, subject });
    return middleware(target, key, descriptor);
  };
}

/** Any authenticated caller (the operation concerns only the caller's own session or identity). */
export function SignedIn(): MethodDecorator {
  return (target, key, descriptor) => {
    record(String(key), { kind: 'signedIn' });
    return checkSignedIn(target, key, descriptor);
  };
}

/** No credential needed (sign-up, sign-in, accepting an invitation). */
export function Public(): MethodDecorator {
  return (_target, key) => {
    record(String(key), { kind: 'public' });
  };
}
