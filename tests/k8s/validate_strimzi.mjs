// Validates Strimzi resources against Strimzi's CRD schemas, as compiled into validators by the
// npm package @kubernetes-models/strimzi-kafka-operator (`make schemas` installs it).
//   node validate_strimzi.mjs NODE_PREFIX < documents.json
// stdin: a JSON array of resources; stdout: a JSON array of {kind, name, errors} in the same
// order, errors being ajv's messages ("/spec/partitions must be integer"), [] when valid.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [prefix] = process.argv.slice(2);
const models = join(prefix, "node_modules", "@kubernetes-models", "strimzi-kafka-operator");
const documents = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const document of documents) {
  const [group, version] = document.apiVersion.split("/");
  const module = await import(pathToFileURL(join(models, group, version, `${document.kind}.js`)));
  let errors = [];
  try {
    new module[document.kind](document).validate();
  } catch (error) {
    if (!error.errors) throw error;
    errors = error.errors.map((e) => `${e.instancePath || "/"} ${e.message}`);
  }
  results.push({ kind: document.kind, name: document.metadata?.name, errors });
}
process.stdout.write(JSON.stringify(results));
