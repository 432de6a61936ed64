// Placeholder replaced by the real Postgres harness in the same change series.
export default async function setup(): Promise<void> {}
