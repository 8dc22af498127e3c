// Public surface of the engine's constraints: the built-in syntax constraint and the helpers the
// decode loop uses to apply any Constraint (check first, mask only on rejection, drafts).
export { createSyntaxConstraint, SyntaxConstraint, type SyntaxConstraintOptions } from './syntax';
export { checkDraft, constrainToken, maskLogits, MaskBuffer, type ConstrainedStep } from './apply';
export { languageSpec, supportedLanguageIds } from './languages';
