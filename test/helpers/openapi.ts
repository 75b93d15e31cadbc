import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** Validates outbound payloads against the schemas of the server's own /openapi.json. */
export async function payloadValidator(base: string) {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as Record<string, any>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: 'pushci-openapi', ...doc });
  return {
    doc,
    /** Throws with the schema errors unless `body` is a valid message of its own `type`. */
    check(body: string) {
      const msg = JSON.parse(body) as { type: string };
      const schemaRef = doc.webhooks[msg.type]?.post.requestBody.content['application/json'].schema.$ref as
        string | undefined;
      if (!schemaRef) throw new Error(`the OpenAPI document has no webhook ${msg.type}`);
      const validate = ajv.getSchema(`pushci-openapi${schemaRef}`)!;
      if (!validate(msg))
        throw new Error(`${msg.type} does not match ${schemaRef}: ${ajv.errorsText(validate.errors)}`);
    },
  };
}
