/* hvsim command line (stub while the foundation is being assembled). */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("hvsim %s\n", HVSIM_VERSION);
	return 0;
}
