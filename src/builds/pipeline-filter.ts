import { NotFoundError } from '../errors.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { findPipeline } from './find-pipeline.ts';

// What an id may be (the schema's rule for `name:`); builds of a pipeline that is gone keep its id.
const ID = /^[A-Za-z0-9._-]+$/;

/**
 * The pipeline id that a builds filter means: a pipeline in force by its id or its file (findPipeline),
 * else the word itself when it could be the id of a pipeline since removed (its builds remain). A path
 * that fits no pipeline is a `NotFoundError` listing the pipelines, never an empty answer.
 */
export function pipelineFilter(pipelines: readonly Pipeline[], wanted: string): string {
  try {
    return findPipeline(pipelines, wanted).name;
  } catch (err) {
    if (err instanceof NotFoundError && ID.test(wanted)) return wanted;
    throw err;
  }
}
