export default class EmbeddedPostgres {
  constructor() {
    throw new Error('no embedded Postgres in the GPU check bundle');
  }
}
