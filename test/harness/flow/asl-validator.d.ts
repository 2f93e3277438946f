/** asl-validator 4.0.0 ships no types: the one function the definition test calls. */
declare module 'asl-validator' {
  interface AslValidation {
    isValid: boolean;
    errors: Array<{ 'Error code': string; Message: string }>;
  }
  const validator: (definition: unknown) => AslValidation;
  export default validator;
}
