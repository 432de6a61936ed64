import type { DomainCalls } from './types.js';

// Erasing an address no run ever saw still certifies it (and is the same call for every role).
const calls: DomainCalls = {
  calls: {
    eraseDataSubject: {
      query: `mutation($i: EraseDataSubjectInput!) { eraseDataSubject(input: $i) { certificate { subjectId keysDestroyed } } }`,
      variables: () => ({ i: { email: `subject-${crypto.randomUUID()}@example.com` } }),
      audit: { action: 'dataSubject.erased' },
    },
  },
};

export default calls;
