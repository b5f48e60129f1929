/**
 * Types of `vader-sentiment` 1.1.3 (Apache-2.0, a JavaScript port of VADER, Hutto & Gilbert 2014),
 * which ships none. Only what Parley uses; the package is CommonJS (webpack bundle), so Node's ESM
 * loader exposes `module.exports` as the default export.
 */
declare module 'vader-sentiment' {
  /** VADER's scores of one text. */
  export interface PolarityScores {
    /** Share of the text that is negative, 0..1 (3 decimals). */
    neg: number;
    /** Share of the text that is neutral, 0..1 (3 decimals). */
    neu: number;
    /** Share of the text that is positive, 0..1 (3 decimals). */
    pos: number;
    /** Normalised sum of valences, -1..1 (4 decimals). */
    compound: number;
  }
  /** VADER's analyzer: static methods only. */
  export const SentimentIntensityAnalyzer: {
    /** Scores of `text`; an empty text scores all zeros. */
    polarity_scores(text: string): PolarityScores;
  };
  const vader: { SentimentIntensityAnalyzer: typeof SentimentIntensityAnalyzer };
  export default vader;
}
