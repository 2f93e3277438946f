/** The ASCII bytes CSV structure is made of: the same bytes in UTF-8 and windows-1251. */
export const LF = 10;
export const CR = 13;
export const DQ = 34;
