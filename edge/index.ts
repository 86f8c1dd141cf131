// The Worker's entry: the edge app over the models `npm run models -- sync` bundled.

import { bundledModels } from './models.generated.ts';
import { createEdgeWorker } from './worker.ts';

export default createEdgeWorker(bundledModels);
