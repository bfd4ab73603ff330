# msr-tools' rdmsr and wrmsr through the kernel's MSR driver.
# args: --append quiet
rdmsr 0x981
rdmsr -c 0x982
rdmsr -0 -X -p 3 0x982
rdmsr -f 35:32 -d 0x982
rdmsr -f 63:48 -c 0x982
rdmsr -a 0x10
rdmsr 0x123
rdmsr -p 9 0x10
wrmsr 0x982 0x5000600000003
wrmsr -p 1 0x983 0
wrmsr -a 0x10 1
rdmsr
wrmsr 0x982
rdmsr -f 1:2 0x982
rdmsr -q 0x982
cpuid -1 -r -l 7
cpuid -r -l 0x80000008
cpuid -1 -r -l 0
cpuid -1 -r -l 0x1b -s 0
