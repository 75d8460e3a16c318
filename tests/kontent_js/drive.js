// Runs the official Kontent.ai Management SDK against a Cairn server and prints JSON results.
// Usage: node drive.js <baseUrl> <environmentId> <apiKey> <json-ops-to-apply> <json-bad-ops>
const { createManagementClient, SharedModels } = require('@kontent-ai/management-sdk');

async function main() {
  const [baseUrl, environmentId, apiKey, goodOps, badOps] = process.argv.slice(2);
  const client = createManagementClient({ environmentId, apiKey, baseUrl });
  const shape = (response) => ({
    collections: response.data.collections.map((c) => ({
      id: c.id, name: c.name, codename: c.codename, externalId: (c._raw && c._raw.external_id) ?? null,
    })),
    lastModified: response.data.lastModified ? new Date(response.data.lastModified).toISOString() : null,
  });
  const out = {};
  out.listed = shape(await client.listCollections().toPromise());
  out.set = shape(await client.setCollections().withData(JSON.parse(goodOps)).toPromise());
  try {
    await client.setCollections().withData(JSON.parse(badOps)).toPromise();
    out.error = null;
  } catch (error) {
    out.error = {
      typed: error instanceof SharedModels.ContentManagementBaseKontentError,
      errorCode: error.errorCode,
      requestId: error.requestId,
      message: error.message,
      validationErrors: (error.validationErrors || []).map((v) => v.message),
    };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
