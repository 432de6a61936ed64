import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface PublishOptions {
  /** Base URL of the Roster API, e.g. http://127.0.0.1:4000 (`/graphql` is appended). */
  readonly api: string;
  /** A session token (rs_…) or API key (rk_…) of an owner or admin of the publisher's tenant. */
  readonly token: string;
  readonly changelog?: string;
}

export interface PublishResult {
  readonly id: string;
  readonly version: string;
  readonly reviewState: string;
}

/** A refusal from the API, printed as `roster: <code>: <message>`. */
export class PublishError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

const PUBLISH = `mutation Publish($input: PublishPluginVersionInput!) {
  publishPluginVersion(input: $input) { pluginVersion { id pluginKey version reviewState } }
}`;

/**
 * Uploads a signed package through the GraphQL API (`publishPluginVersion`). The API verifies
 * integrity and signature against the publisher's registered keys before storing it; the new
 * version waits for a platform admin's review.
 */
export async function publishCommand(
  file: string,
  options: PublishOptions,
  say: (line: string) => void,
): Promise<PublishResult> {
  const pkg = JSON.parse(await readFile(resolve(file), 'utf8')) as unknown;
  const url = `${options.api.replace(/\/+$/, '')}/graphql`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
      body: JSON.stringify({
        query: PUBLISH,
        variables: { input: { package: pkg, changelog: options.changelog ?? null } },
      }),
    });
  } catch (error) {
    throw new PublishError(
      'API_UNREACHABLE',
      `Could not reach ${url} (${(error as Error).message}); check --api and that the API is running.`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as {
    data?: { publishPluginVersion?: { pluginVersion: PublishResult & { pluginKey: string } } };
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = body.errors?.[0];
  if (error || !body.data?.publishPluginVersion) {
    throw new PublishError(
      error?.extensions?.code ?? `HTTP_${response.status}`,
      error?.message ?? `The API answered ${response.status} without a result.`,
    );
  }
  const published = body.data.publishPluginVersion.pluginVersion;
  say(
    `Published ${published.pluginKey}@${published.version} (${published.reviewState.toLowerCase()} review) as ${published.id}`,
  );
  return published;
}
