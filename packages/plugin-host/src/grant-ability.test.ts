import { describe, expect, it } from 'vitest';
import { hostCallAbility, mayCall } from './grant-ability.js';

describe('host call ability (CASL, from the installation grant)', () => {
  it('allows the methods of granted capabilities only', () => {
    const ability = hostCallAbility(['http', 'kv']);
    expect(mayCall(ability, 'http', 'http.fetch')).toBe(true);
    expect(mayCall(ability, 'kv', 'kv.set')).toBe(true);
    expect(mayCall(ability, 'smtp', 'smtp.send')).toBe(false);
    expect(mayCall(ability, 'sql', 'sql.query')).toBe(false);
  });

  it('denies everything when nothing was granted', () => {
    const ability = hostCallAbility([]);
    expect(mayCall(ability, 'http', 'http.fetch')).toBe(false);
  });
});
