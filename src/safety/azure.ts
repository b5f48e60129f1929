/**
 * Azure OpenAI's content-filter wire forms, rendered from a decision (pure). Shapes copied from
 * ../shared/contract/10_safety_and_operations.txt §1 and Azure's `contentFilterResultsBase`
 * (every member optional, `error` included).
 *
 * Honesty: a category no layer checked is left out, never reported "safe". When any of the four
 * harm categories was not checked (or, in a prompt of several texts, not in all of them), an
 * `error` member says so (code `content_filter_error`); when
 * no check ran at all the results are exactly Azure's `{"error":{"code":"content_filter_error",
 * "message":"The contents are not filtered"}}`. Azure's `filtered` means the policy acted: the
 * category caused the block (harms, jailbreak) or was masked (profanity with `profanity: filter`).
 * Not checked by Parley, hence never sent: protected_material_text / protected_material_code.
 */
import { ApiError } from '../errors.js';
import { HARM_CATEGORIES, type HarmCategory, type SafetyDecision, type Severity } from './types.js';

/** `{filtered, severity}`. */
export interface AzureSeverityResult {
  filtered: boolean;
  severity: Severity;
}

/** `{filtered, detected}`. */
export interface AzureDetectedResult {
  filtered: boolean;
  detected: boolean;
}

/** Azure's `content_filter_results` (prompt or choice). */
export interface AzureContentFilterResults {
  hate?: AzureSeverityResult;
  jailbreak?: AzureDetectedResult;
  profanity?: AzureDetectedResult;
  self_harm?: AzureSeverityResult;
  sexual?: AzureSeverityResult;
  violence?: AzureSeverityResult;
  error?: { code: 'content_filter_error'; message: string };
}

/** One entry of `prompt_filter_results`. */
export interface AzurePromptFilterResult {
  prompt_index: number;
  content_filter_results: AzureContentFilterResults;
}

/** Azure's "no filter ran" message. */
export const AZURE_NOT_FILTERED_MESSAGE = 'The contents are not filtered';

/** The results when no check ran: Azure's exact form. */
export function azureNotFiltered(): AzureContentFilterResults {
  return { error: { code: 'content_filter_error', message: AZURE_NOT_FILTERED_MESSAGE } };
}

const WIRE_NAME: Record<HarmCategory, 'hate' | 'sexual' | 'violence' | 'self_harm'> = {
  hate: 'hate',
  sexual: 'sexual',
  violence: 'violence',
  selfHarm: 'self_harm',
};

/**
 * `content_filter_results` for a decision (prompt side: hate, jailbreak, profanity, self_harm,
 * sexual, violence; reply side: the same without jailbreak), or Azure's "not filtered" form when
 * there is no decision (the text was not checked).
 */
export function azureContentFilterResults(decision: SafetyDecision | undefined): AzureContentFilterResults {
  if (!decision) return azureNotFiltered();
  const a = decision.assessment;
  const out: AzureContentFilterResults = {};
  const severity = (c: HarmCategory): AzureSeverityResult | undefined => {
    const h = a.harms[c];
    return h ? { filtered: decision.filtered[c] === true, severity: h.severity } : undefined;
  };
  // Alphabetical, as Azure sends them.
  const hate = severity('hate');
  if (hate) out.hate = hate;
  if (decision.side === 'prompt' && a.jailbreak) out.jailbreak = { filtered: decision.filtered.jailbreak === true, detected: a.jailbreak.detected };
  out.profanity = { filtered: decision.filtered.profanity === true, detected: a.profanity.detected };
  const selfHarm = severity('selfHarm');
  if (selfHarm) out.self_harm = selfHarm;
  const sexual = severity('sexual');
  if (sexual) out.sexual = sexual;
  const violence = severity('violence');
  if (violence) out.violence = violence;
  const unchecked = HARM_CATEGORIES.filter((c) => !a.harms[c] || a.harms[c].partial).map((c) => WIRE_NAME[c]);
  if (unchecked.length > 0) out.error = { code: 'content_filter_error', message: `${AZURE_NOT_FILTERED_MESSAGE} for ${unchecked.join(', ')}` };
  return out;
}

/** `prompt_filter_results` of a chat completion: one entry, index 0, for the whole prompt. */
export function azurePromptFilterResults(decision: SafetyDecision | undefined): AzurePromptFilterResult[] {
  return [{ prompt_index: 0, content_filter_results: azureContentFilterResults(decision) }];
}

/** The 400 body Azure sends for a blocked prompt. */
export interface AzureContentFilterErrorBody {
  error: {
    message: string;
    type: null;
    param: 'prompt';
    code: 'content_filter';
    status: 400;
    innererror: {
      code: 'ResponsibleAIPolicyViolation';
      content_filter_result: Pick<AzureContentFilterResults, 'hate' | 'jailbreak' | 'self_harm' | 'sexual' | 'violence'>;
    };
  };
}

/** Azure's wording for a blocked prompt. */
export const AZURE_PROMPT_FILTERED_MESSAGE =
  "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.";

/**
 * Azure's 400 body for a blocked prompt, as the service sends it (`innererror`,
 * `content_filter_result`; the GA spec's `inner_error` / `content_filter_results` are not what
 * clients receive). The inner result carries the checked harm categories, plus jailbreak when it
 * fired.
 */
export function azureContentFilterErrorBody(decision: SafetyDecision): AzureContentFilterErrorBody {
  const results = azureContentFilterResults(decision);
  const inner: AzureContentFilterErrorBody['error']['innererror']['content_filter_result'] = {};
  if (results.hate) inner.hate = results.hate;
  if (results.jailbreak?.detected) inner.jailbreak = results.jailbreak;
  if (results.self_harm) inner.self_harm = results.self_harm;
  if (results.sexual) inner.sexual = results.sexual;
  if (results.violence) inner.violence = results.violence;
  return {
    error: {
      message: `${AZURE_PROMPT_FILTERED_MESSAGE} (${describeBlock(decision)})`,
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: inner },
    },
  };
}

/** "sexual: high, jailbreak" — what blocked, for messages and logs. */
export function describeBlock(decision: SafetyDecision): string {
  const parts = decision.blockedBy.map((c) => {
    if (c === 'jailbreak' || c === 'profanity') return c;
    return `${WIRE_NAME[c]}: ${decision.assessment.harms[c]?.severity ?? 'unknown'}`;
  });
  return parts.length > 0 ? `blocked for ${parts.join(', ')}` : 'not blocked';
}

/**
 * A blocked prompt (or speech input) as an error. On OpenAI routes it serialises as usual
 * (`{"error":{message,type,param,code:"content_filter"}}`, HTTP 400); Azure routes send
 * `toAzureWire()` instead.
 */
export class ContentFilterError extends ApiError {
  /** The decision behind the block. */
  readonly decision: SafetyDecision;

  constructor(decision: SafetyDecision, param = 'messages') {
    super({
      status: 400,
      type: 'invalid_request_error',
      code: 'content_filter',
      param,
      message: `Your request was rejected by this server's content filter (${describeBlock(decision)}). Please modify your ${param === 'input' ? 'input' : 'prompt'} and retry.`,
    });
    this.name = 'ContentFilterError';
    this.decision = decision;
  }

  /** Azure's 400 body. */
  toAzureWire(): AzureContentFilterErrorBody {
    return azureContentFilterErrorBody(this.decision);
  }
}
