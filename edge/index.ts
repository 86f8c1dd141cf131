// The Worker's entry: the edge app over the models `npm run models -- sync` bundled, and the Durable
// Object class that keeps each async job's record (wrangler.toml binds it as JOBS).

import { bundledModels } from './models.generated.ts';
import { createEdgeWorker } from './worker.ts';

export { JobObject } from './jobs/job-object.ts';
export default createEdgeWorker(bundledModels);
