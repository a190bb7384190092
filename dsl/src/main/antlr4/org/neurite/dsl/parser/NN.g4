/*
 * The .nn model language, v1 (docs/language.md is the user-facing description).
 *
 * A script is a sequence of `model` and `train` sections. Newlines are not significant and `;`
 * separators are optional: every statement starts with a keyword or an identifier, and no
 * expression can be followed by one, so the parser always knows where a statement ends.
 *
 * Layer names are not keywords: a chain step is any identifier, and the resolver asks the
 * LayerRegistry what it means. The reserved words are model, train, input, output, true, false.
 */
grammar NN;

script
    : declaration* EOF
    ;

declaration
    : modelDecl
    | trainDecl
    | SEMI
    ;

// model LeNet5(classes = 10) { ... }
modelDecl
    : MODEL name=ID paramList? LBRACE statement* RBRACE
    ;

paramList
    : LPAREN (param (COMMA param)* COMMA?)? RPAREN
    ;

param
    : name=ID (ASSIGN value=expr)?
    ;

statement
    : INPUT name=ID COLON shape=expr      # inputStatement
    | OUTPUT name=ID ASSIGN chain         # outputStatement
    | name=ID ASSIGN chain                # assignStatement
    | chain                               # chainStatement
    | SEMI                                # emptyStatement
    ;

// conv(6, kernel=5) -> relu -> maxpool(2); the first step may name a value instead of a layer.
chain
    : step (ARROW step)*
    ;

step
    : name=ID (LPAREN argList? RPAREN)?
    ;

argList
    : argument (COMMA argument)* COMMA?
    ;

argument
    : name=ID ASSIGN value=expr           # namedArgument
    | value=expr                          # positionalArgument
    ;

// train LeNet5 { data = fashion_mnist; optimizer = sgd(lr=0.05) }
trainDecl
    : TRAIN model=ID LBRACE setting* RBRACE
    ;

setting
    : key=ID ASSIGN value=expr            # keyValueSetting
    | SEMI                                # emptySetting
    ;

// Earlier alternatives bind tighter: unary sign, then * /, then + -.
expr
    : op=(MINUS | PLUS) operand=expr                      # unaryExpr
    | left=expr op=(STAR | SLASH) right=expr              # binaryExpr
    | left=expr op=(PLUS | MINUS) right=expr              # binaryExpr
    | LPAREN inner=expr RPAREN                            # parenExpr
    | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK          # listExpr
    | name=ID LPAREN argList? RPAREN                      # callExpr
    | name=ID                                             # nameExpr
    | INT                                                 # intExpr
    | FLOAT                                               # floatExpr
    | STRING                                              # stringExpr
    | value=(TRUE | FALSE)                                # boolExpr
    ;

MODEL  : 'model' ;
TRAIN  : 'train' ;
INPUT  : 'input' ;
OUTPUT : 'output' ;
TRUE   : 'true' ;
FALSE  : 'false' ;

ARROW  : '->' ;
LPAREN : '(' ;
RPAREN : ')' ;
LBRACE : '{' ;
RBRACE : '}' ;
LBRACK : '[' ;
RBRACK : ']' ;
COMMA  : ',' ;
COLON  : ':' ;
SEMI   : ';' ;
ASSIGN : '=' ;
PLUS   : '+' ;
MINUS  : '-' ;
STAR   : '*' ;
SLASH  : '/' ;

ID     : [a-zA-Z_] [a-zA-Z_0-9]* ;

FLOAT
    : DIGITS '.' DIGITS EXPONENT?
    | '.' DIGITS EXPONENT?
    | DIGITS EXPONENT
    ;

INT    : DIGITS ;

// Any escape is lexed; AstBuilder rejects the ones the language does not define.
STRING : '"' (~["\\\r\n] | '\\' .)* '"' ;

// A string with no closing quote on its line; only wins when STRING cannot match.
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' .)* ;

COMMENT : '#' ~[\r\n]* -> skip ;
WS      : [ \t\r\n\f]+ -> skip ;

// Every other character becomes a token, so the parser reports it in its own words.
ERROR_CHAR : . ;

fragment DIGITS   : [0-9]+ ;
fragment EXPONENT : [eE] [+-]? DIGITS ;
