/**
 * Azure's content-filter forms, validated against JSON schemas written from the contract
 * (../shared/contract/10_safety_and_operations.txt §1 and Azure's contentFilterResultsBase:
 * every member optional, `error` included) and, for the 400 body, compared field by field with
 * the body Azure actually sends (§1).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { azureContentFilterErrorBody, azureContentFilterResults, azureNotFiltered, azurePromptFilterResults, ContentFilterError } from './azure.js';
import { decide } from './policy.js';
import { alwaysOn, assessment, classifierLayer, ranLayer } from './test-support.js';

const severity = {
  type: 'object',
  required: ['filtered', 'severity'],
  additionalProperties: false,
  properties: { filtered: { type: 'boolean' }, severity: { enum: ['safe', 'low', 'medium', 'high'] } },
};
const detected = {
  type: 'object',
  required: ['filtered', 'detected'],
  additionalProperties: false,
  properties: { filtered: { type: 'boolean' }, detected: { type: 'boolean' } },
};
const error = {
  type: 'object',
  required: ['code', 'message'],
  additionalProperties: false,
  properties: { code: { const: 'content_filter_error' }, message: { type: 'string' } },
};
const promptResults = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: { hate: severity, jailbreak: detected, profanity: detected, self_harm: severity, sexual: severity, violence: severity, error },
};
const choiceResults = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: { hate: severity, profanity: detected, protected_material_text: detected, self_harm: severity, sexual: severity, violence: severity, error },
};
const ajv = new Ajv({ strict: false, allErrors: true });
const validatePromptFilterResults = ajv.compile({
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    required: ['prompt_index', 'content_filter_results'],
    additionalProperties: false,
    properties: { prompt_index: { type: 'integer' }, content_filter_results: promptResults },
  },
});
const validateChoiceResults = ajv.compile(choiceResults);

function valid(validate: ReturnType<typeof ajv.compile>, value: unknown): void {
  assert.ok(validate(value), `${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
}

const policy = { profanity: 'annotate', block: 'high' } as const;
const fullLayers = () => [...alwaysOn(), classifierLayer({})];

describe('Azure content-filter annotations', () => {
  it("renders Azure's exact 'not filtered' form when nothing was checked", () => {
    assert.deepEqual(azureContentFilterResults(undefined), { error: { code: 'content_filter_error', message: 'The contents are not filtered' } });
    assert.deepEqual(azureNotFiltered(), azureContentFilterResults(undefined));
    valid(validateChoiceResults, azureNotFiltered());
    valid(validatePromptFilterResults, azurePromptFilterResults(undefined));
  });

  it('renders every category as checked when the classifier ran: prompt side in Azure key order, no error', () => {
    const d = decide('prompt', ['hello'], [assessment(...fullLayers())], policy);
    const results = azurePromptFilterResults(d);
    valid(validatePromptFilterResults, results);
    assert.deepEqual(results, [
      {
        prompt_index: 0,
        content_filter_results: {
          hate: { filtered: false, severity: 'safe' },
          profanity: { filtered: false, detected: false },
          self_harm: { filtered: false, severity: 'safe' },
          sexual: { filtered: false, severity: 'safe' },
          violence: { filtered: false, severity: 'safe' },
        },
      },
    ]);
    assert.deepEqual(Object.keys(results[0]!.content_filter_results), ['hate', 'profanity', 'self_harm', 'sexual', 'violence']);
  });

  it('leaves out what no layer checked and says so in an error member, never an invented safe', () => {
    const d = decide('reply', ['hello'], [assessment(...alwaysOn([{ start: 0, end: 4, term: 'shit' }]))], policy);
    const r = azureContentFilterResults(d);
    valid(validateChoiceResults, r);
    assert.deepEqual(r, {
      profanity: { filtered: false, detected: true },
      self_harm: { filtered: false, severity: 'safe' },
      error: { code: 'content_filter_error', message: 'The contents are not filtered for hate, sexual, violence' },
    });
  });

  it('marks the blocking category filtered on the reply side, and reports the jailbreak check on prompts only', () => {
    const layers = [...fullLayers(), ranLayer('judge', { violence: { severity: 'high', score: 1 } }, { jailbreak: false })];
    const reply = azureContentFilterResults(decide('reply', ['x'], [assessment(...layers)], policy));
    valid(validateChoiceResults, reply);
    assert.deepEqual(reply.violence, { filtered: true, severity: 'high' });
    assert.equal(reply.jailbreak, undefined);
    const prompt = azureContentFilterResults(decide('prompt', ['x'], [assessment(...layers)], policy));
    assert.deepEqual(prompt.jailbreak, { filtered: false, detected: false });
    valid(validatePromptFilterResults, [{ prompt_index: 0, content_filter_results: prompt }]);
  });

  it("renders the 400 body with the service's field names, as §1 shows it", () => {
    const d = decide('prompt', ['x'], [assessment(...alwaysOn(), classifierLayer({ sexual: { severity: 'high', score: 0.98 } }))], policy);
    const body = azureContentFilterErrorBody(d);
    // §1, as the service sends it (message shortened there with "...").
    const contract = JSON.parse(
      '{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content management policy. Please modify your prompt and retry. ...","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":true,"severity":"high"},"violence":{"filtered":false,"severity":"safe"}}}}}',
    );
    assert.ok(body.error.message.startsWith(contract.error.message.replace(' ...', '')), body.error.message);
    assert.deepEqual({ ...body, error: { ...body.error, message: contract.error.message } }, contract);
    assert.equal(
      JSON.stringify({ ...body, error: { ...body.error, message: '' } }),
      JSON.stringify({ ...contract, error: { ...contract.error, message: '' } }),
      'same keys in the same order',
    );
  });

  it('adds the jailbreak check to the 400 body when it fired', () => {
    const d = decide('prompt', ['x'], [assessment(...fullLayers(), ranLayer('judge', {}, { jailbreak: true }))], policy);
    assert.equal(d.action, 'block');
    assert.deepEqual(azureContentFilterErrorBody(d).error.innererror.content_filter_result.jailbreak, { filtered: true, detected: true });
  });

  it('makes an OpenAI-shaped 400 error with code content_filter that can also render the Azure body', () => {
    const d = decide('prompt', ['x'], [assessment(...alwaysOn(), classifierLayer({ hate: { severity: 'high', score: 0.99 } }))], policy);
    const e = new ContentFilterError(d);
    assert.equal(e.status, 400);
    assert.deepEqual(Object.keys(e.toWire().error), ['message', 'type', 'param', 'code']);
    assert.equal(e.toWire().error.code, 'content_filter');
    assert.equal(e.toWire().error.type, 'invalid_request_error');
    assert.match(e.message, /hate: high/);
    assert.equal(e.toAzureWire().error.innererror.code, 'ResponsibleAIPolicyViolation');
    assert.equal(new ContentFilterError(d, 'input').param, 'input');
  });
});
